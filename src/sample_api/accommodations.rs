//! `Accommodation`: the fixed catalogue of ten cabins the sample API rents out.

use serde::Serialize;

/// One rentable cabin. Prices are whole pesos per night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Accommodation {
    pub(crate) id: u32,
    pub(crate) name: &'static str,
    pub(crate) capacity: u32,
    pub(crate) price_per_night: u64,
}

/// The catalogue; ids are 1..=10 and equal to position + 1.
pub(crate) const CATALOGUE: [Accommodation; 10] = [
    cabin(1, "Cabaña del Lago", 4, 85_000),
    cabin(2, "Cabaña Los Arrayanes", 6, 110_000),
    cabin(3, "Refugio del Bosque", 2, 62_000),
    cabin(4, "Cabaña Mirador del Cerro", 5, 98_000),
    cabin(5, "Cabaña Río Azul", 4, 90_000),
    cabin(6, "Domo Las Lengas", 2, 75_000),
    cabin(7, "Cabaña El Coihue", 8, 145_000),
    cabin(8, "Casa del Árbol", 3, 80_000),
    cabin(9, "Cabaña Piedra Alta", 6, 120_000),
    cabin(10, "Cabaña Los Notros", 4, 88_000),
];

const fn cabin(id: u32, name: &'static str, capacity: u32, price_per_night: u64) -> Accommodation {
    Accommodation {
        id,
        name,
        capacity,
        price_per_night,
    }
}

/// The accommodation with `id` and its position in [`CATALOGUE`], if it exists.
pub(crate) fn find(id: i64) -> Option<(usize, &'static Accommodation)> {
    let index = usize::try_from(id.checked_sub(1)?).ok()?;
    CATALOGUE
        .get(index)
        .map(|accommodation| (index, accommodation))
}

/// The catalogue as the JSON array served by `GET /api/v1/accommodations`.
pub(crate) fn catalogue_json() -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&CATALOGUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_to_ten_in_order() {
        for (index, accommodation) in CATALOGUE.iter().enumerate() {
            assert_eq!(accommodation.id as usize, index + 1);
            assert_eq!(
                find(i64::from(accommodation.id)),
                Some((index, accommodation))
            );
        }
    }

    #[test]
    fn unknown_ids_are_not_found() {
        for id in [0, -1, 11, i64::MIN, i64::MAX] {
            assert_eq!(find(id), None, "{id}");
        }
    }

    #[test]
    fn catalogue_json_has_the_documented_fields() {
        let json: serde_json::Value = serde_json::from_slice(&catalogue_json().unwrap()).unwrap();
        let first = &json.as_array().unwrap()[0];
        assert_eq!(
            first,
            &serde_json::json!({
                "id": 1, "name": "Cabaña del Lago", "capacity": 4, "price_per_night": 85_000
            })
        );
    }
}
