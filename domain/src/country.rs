//! Countries: ISO 3166-1 alpha-2 codes, as used by the matching pool's `same_country`.

use crate::Invalid;

/// The officially assigned ISO 3166-1 alpha-2 codes.
const ASSIGNED: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK \
DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU \
GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY \
MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU \
RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A country code such as `DE`, always upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Country(String);

crate::string_newtype!(Country);

impl Country {
    /// Parses an assigned alpha-2 code; lower case is accepted and folded (`de` → `DE`).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.to_ascii_uppercase();
        let known = code.len() == 2
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && ASSIGNED.split(' ').any(|c| c == code);
        if known {
            Ok(Self(code))
        } else {
            Err(Invalid::new(
                "country",
                "must be an ISO 3166-1 alpha-2 code such as \"DE\"",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_codes_are_accepted_and_folded() {
        assert_eq!(Country::parse("DE").unwrap().as_str(), "DE");
        assert_eq!(Country::parse("us").unwrap().as_str(), "US");
    }

    #[test]
    fn the_list_has_every_assigned_code_once() {
        let codes: Vec<_> = ASSIGNED.split(' ').collect();
        assert_eq!(codes.len(), 249);
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 249);
    }

    #[test]
    fn unassigned_or_malformed_codes_are_rejected() {
        for bad in ["XX", "DEU", "D", "", "1A", "ÄÖ", "D\0", "de "] {
            assert!(Country::parse(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_codes_are_two_upper_case_ascii_letters(s in "\\PC{0,4}") {
            if let Ok(c) = Country::parse(&s) {
                prop_assert_eq!(c.as_str().len(), 2);
                prop_assert!(c.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
}
