//! The authenticator's model identifier.

use std::fmt;
use std::str::FromStr;

/// An AAGUID: the 16-byte model identifier an authenticator puts in every
/// attested credential (WebAuthn §6.5.1) and that the batch certificate
/// repeats in its `id-fido-gen-ce-aaguid` extension.
///
/// Displayed and parsed in the usual UUID form,
/// `5eba1792-4170-4ad5-bb8b-55e33f0cff49`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aaguid([u8; 16]);

impl Aaguid {
    /// The vault's own AAGUID, `5eba1792-4170-4ad5-bb8b-55e33f0cff49`: a
    /// random (version 4) UUID drawn once for this project. It is not in the
    /// FIDO Metadata Service, so tenants that allow-list AAGUIDs must add it
    /// (or configure their own AAGUID and batch certificate).
    pub const DEFAULT: Aaguid = Aaguid([
        0x5e, 0xba, 0x17, 0x92, 0x41, 0x70, 0x4a, 0xd5, 0xbb, 0x8b, 0x55, 0xe3, 0x3f, 0x0c, 0xff,
        0x49,
    ]);

    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Aaguid(bytes)
    }

    /// The raw bytes, as they appear in authenticator data.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl Default for Aaguid {
    /// [`Aaguid::DEFAULT`].
    fn default() -> Self {
        Aaguid::DEFAULT
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aaguid({self})")
    }
}

/// The input was not a UUID; carries the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AAGUID (expected 32 hex digits, optionally in 8-4-4-4-12 UUID form)")]
pub struct ParseAaguidError(pub String);

impl FromStr for Aaguid {
    type Err = ParseAaguidError;

    /// Accepts the hyphenated UUID form or 32 bare hex digits, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAaguidError(s.to_owned());
        let trimmed = s.trim();
        let hyphenated = trimmed.len() == 36;
        if hyphenated {
            // Hyphens only where a UUID has them, so "12-34..." is refused.
            for (i, c) in trimmed.char_indices() {
                if matches!(i, 8 | 13 | 18 | 23) != (c == '-') {
                    return Err(err());
                }
            }
        } else if trimmed.len() != 32 {
            return Err(err());
        }
        let hex: Vec<u8> = trimmed.bytes().filter(|&c| c != b'-').collect();
        // from_str_radix alone would take a leading '+', so check digits first.
        if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(err());
        }
        let mut out = [0u8; 16];
        for (slot, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| err())?;
            *slot = u8::from_str_radix(text, 16).map_err(|_| err())?;
        }
        Ok(Aaguid(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_through_text() {
        let text = Aaguid::DEFAULT.to_string();
        assert_eq!(text, "5eba1792-4170-4ad5-bb8b-55e33f0cff49");
        assert_eq!(text.parse::<Aaguid>(), Ok(Aaguid::DEFAULT));
        assert_eq!(
            "5EBA179241704AD5BB8B55E33F0CFF49".parse::<Aaguid>(),
            Ok(Aaguid::DEFAULT)
        );
    }

    #[test]
    fn refuses_non_uuids() {
        for bad in [
            "",
            "5eba1792",
            "5eba1792-4170-4ad5-bb8b-55e33f0cff4",
            "5eba17924-170-4ad5-bb8b-55e33f0cff49",
            "5eba1792-4170-4ad5-bb8b-55e33f0cff4g",
            "+eba1792417+4ad5bb8b55e33f0cff49",
        ] {
            assert!(bad.parse::<Aaguid>().is_err(), "{bad:?} was accepted");
        }
    }
}
