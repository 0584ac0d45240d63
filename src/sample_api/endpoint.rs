//! `Endpoint`: the closed set of counted endpoints and their ids in [`super::HitCounts`].

/// One counted endpoint of the sample API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    Health,
    ListAccommodations,
    Availability,
    Prereserve,
    Login,
    Confirm,
    Cancel,
    WhatsappWebhook,
    MercadopagoWebhook,
    NotFound,
}

impl Endpoint {
    /// Every endpoint, in the order of [`Endpoint::index`].
    pub(crate) const ALL: [Endpoint; 10] = [
        Endpoint::Health,
        Endpoint::ListAccommodations,
        Endpoint::Availability,
        Endpoint::Prereserve,
        Endpoint::Login,
        Endpoint::Confirm,
        Endpoint::Cancel,
        Endpoint::WhatsappWebhook,
        Endpoint::MercadopagoWebhook,
        Endpoint::NotFound,
    ];

    /// The id under which hits are reported, e.g. `"prereserve"`.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Endpoint::Health => "health",
            Endpoint::ListAccommodations => "list_accommodations",
            Endpoint::Availability => "availability",
            Endpoint::Prereserve => "prereserve",
            Endpoint::Login => "login",
            Endpoint::Confirm => "confirm",
            Endpoint::Cancel => "cancel",
            Endpoint::WhatsappWebhook => "whatsapp_webhook",
            Endpoint::MercadopagoWebhook => "mercadopago_webhook",
            Endpoint::NotFound => "not_found",
        }
    }

    /// Position in [`Endpoint::ALL`], used to index counter tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_in_all_and_ids_are_unique() {
        for (position, endpoint) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(endpoint.index(), position);
        }
        let mut ids: Vec<_> = Endpoint::ALL.iter().map(|e| e.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Endpoint::ALL.len());
    }
}
