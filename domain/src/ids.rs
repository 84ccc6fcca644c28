//! Identifiers: UUID v7 newtypes, so that ids sort by creation time and cannot be mixed up.

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an id read from storage or the wire.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// One login: the family of refresh tokens that a single sign-in produced.
    SessionId
);
id_type!(
    /// A conversation: a named group or a direct chat.
    GroupId
);
id_type!(
    /// A message.
    MessageId
);
id_type!(
    /// An uploaded file (and the key of its bytes in the blob store).
    AttachmentId
);
id_type!(
    /// A server-wide announcement.
    AnnouncementId
);
id_type!(
    /// A report of a message or a user to the server's admins.
    ReportId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_version_7_and_increase() {
        let a = UserId::new();
        let b = UserId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b);
    }

    #[test]
    fn an_id_round_trips_through_its_uuid() {
        let a = SessionId::new();
        assert_eq!(SessionId::from_uuid(a.as_uuid()), a);
        assert_eq!(a.to_string(), a.as_uuid().to_string());
    }
}
