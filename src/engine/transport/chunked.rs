//! `ChunkedBody`: counts a `Transfer-Encoding: chunked` body as it streams past, without
//! keeping it. Fed whatever bytes have arrived; tells how many it consumed.

/// Chunk-size lines and trailer lines longer than this are not a real server's.
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk, with this many data bytes to go.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty line.
    Trailers,
    Done,
}

/// A malformed chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InvalidChunk(pub(crate) &'static str);

#[derive(Debug)]
pub(super) struct ChunkedBody {
    state: State,
    /// Body bytes seen, excluding the chunk framing.
    pub(crate) bytes: u64,
}

impl ChunkedBody {
    pub(super) fn new() -> Self {
        Self {
            state: State::Size,
            bytes: 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes what it can of `input`, passing chunk data to `data`; the caller keeps the
    /// rest and feeds it again with more bytes appended. Stops once the body is complete.
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        mut data: impl FnMut(&[u8]),
    ) -> Result<usize, InvalidChunk> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Size => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        pos += used;
                        self.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::Data(size)
                        };
                    }
                    Ok(httparse::Status::Partial) => return partial(pos, rest),
                    Err(_) => return Err(InvalidChunk("bad chunk size line")),
                },
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = left.min(rest.len() as u64);
                    data(&rest[..take as usize]);
                    self.bytes += take;
                    pos += take as usize;
                    self.state = if take == left {
                        State::DataEnd
                    } else {
                        State::Data(left - take)
                    };
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(InvalidChunk("chunk data longer than its size"));
                    }
                    pos += 2;
                    self.state = State::Size;
                }
                State::Trailers => match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(0) => {
                        pos += 2;
                        self.state = State::Done;
                    }
                    Some(line) => pos += line + 2,
                    None => return partial(pos, rest),
                },
                State::Done => return Ok(pos),
            }
        }
    }
}

/// An incomplete line: wait for more bytes, unless it is already longer than any real one.
fn partial(pos: usize, rest: &[u8]) -> Result<usize, InvalidChunk> {
    if rest.len() > MAX_LINE {
        Err(InvalidChunk("chunk line too long"))
    } else {
        Ok(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BODY: &[u8] = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";

    #[test]
    fn counts_data_bytes_only() {
        let mut body = ChunkedBody::new();
        let mut data = Vec::new();
        assert_eq!(
            body.feed(BODY, |d| data.extend_from_slice(d)),
            Ok(BODY.len())
        );
        assert!(body.is_done());
        assert_eq!(body.bytes, 12);
        assert_eq!(data, b"hello, world");
    }

    #[test]
    fn stops_at_the_end_of_the_body() {
        let mut body = ChunkedBody::new();
        let with_next = [b"0\r\n\r\n".as_slice(), b"HTTP/1.1"].concat();
        assert_eq!(body.feed(&with_next, |_| {}), Ok(5));
        assert!(body.is_done());
    }

    #[test]
    fn rejects_malformed_framing() {
        assert!(ChunkedBody::new().feed(b"zz\r\n", |_| {}).is_err());
        assert!(ChunkedBody::new().feed(b"2\r\nabc\r\n", |_| {}).is_err());
        assert!(
            ChunkedBody::new()
                .feed(&[b'1'; MAX_LINE + 1], |_| {})
                .is_err()
        );
    }

    proptest! {
        /// However the bytes are split across reads, the count and the end are the same.
        #[test]
        fn any_split_gives_the_same_count(cuts in proptest::collection::vec(0..BODY.len(), 0..6)) {
            let mut cuts = cuts;
            cuts.sort();
            let mut body = ChunkedBody::new();
            let mut pending: Vec<u8> = Vec::new();
            let mut data = Vec::new();
            let mut start = 0;
            for end in cuts.into_iter().chain([BODY.len()]) {
                pending.extend_from_slice(&BODY[start..end.max(start)]);
                start = end.max(start);
                let used = body.feed(&pending, |d| data.extend_from_slice(d)).unwrap();
                pending.drain(..used);
            }
            prop_assert!(body.is_done());
            prop_assert_eq!(body.bytes, 12);
            prop_assert!(pending.is_empty());
            prop_assert_eq!(data, b"hello, world");
        }
    }
}
