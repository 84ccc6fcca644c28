//! `OneTimeCodes`: one code per purpose and target, single use, a few guesses, and expiry.

use confab_domain::{OTP_MAX_ATTEMPTS, OtpPurpose};
use confab_ports::otp::CodeDigest;
use confab_ports::store::{Column, Kind, NewOtp, Table};

use crate::fixtures::{Fresh, at};

crate::store_cases!(
    the_right_code_in_time_is_accepted_once,
    without_a_code_every_guess_is_refused,
    a_new_code_replaces_the_earlier_one,
    a_new_code_starts_the_count_of_wrong_guesses_again,
    codes_of_other_purposes_or_targets_are_apart,
    the_last_allowed_wrong_guess_burns_the_code,
    an_expired_code_is_refused_even_when_right_and_deleted,
    of_right_guesses_at_once_exactly_one_is_accepted,
    wrong_guesses_at_once_are_each_counted,
    a_new_code_forgets_codes_expired_by_then,
);

/// How long a code lives, in seconds.
const TTL: i64 = 600;

/// `otp_codes` as far as counting its rows goes. It is no table of the copy (`NOT_COPIED`),
/// but `Transfer::count` counts any table it is given: the only way to see, through the
/// ports, that expired codes are forgotten.
static OTP_CODES: Table = Table {
    name: "otp_codes",
    columns: &[
        Column {
            name: "purpose",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "target",
            kind: Kind::Text,
            nullable: false,
        },
    ],
    key: &["purpose", "target"],
};

fn digest(n: u8) -> CodeDigest {
    CodeDigest(vec![n; 32])
}

/// A code for (`purpose`, `target`) with digest `n`, made at `secs`, living `TTL`.
fn code(purpose: OtpPurpose, target: &str, n: u8, secs: i64) -> NewOtp {
    NewOtp {
        purpose,
        target: target.into(),
        digest: digest(n),
        expires_at: at(secs + TTL),
        created_at: at(secs),
    }
}

/// Tries digest `n` for (`purpose`, `target`) at `secs`.
async fn guess(s: &Fresh, purpose: OtpPurpose, target: &str, n: u8, secs: i64) -> bool {
    s.otp
        .use_otp(purpose, target.into(), digest(n), at(secs))
        .await
        .unwrap()
}

const LOGIN: OtpPurpose = OtpPurpose::Login;
const ADA: &str = "user:ada";

/// MUST answer `true` for the right digest in time and delete the code: single use.
async fn the_right_code_in_time_is_accepted_once(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    assert!(guess(s, LOGIN, ADA, 1, TTL - 1).await);
    assert!(!guess(s, LOGIN, ADA, 1, TTL - 1).await, "used up");
}

/// MUST answer `false` (not an error) when no code is kept.
async fn without_a_code_every_guess_is_refused(s: &Fresh) {
    assert!(!guess(s, LOGIN, ADA, 1, 0).await);
    assert!(!guess(s, OtpPurpose::Register, "email:a@example.com", 0, 0).await);
}

/// MUST replace an earlier code for the same purpose and target: only the newest works.
async fn a_new_code_replaces_the_earlier_one(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    s.otp.put_otp(code(LOGIN, ADA, 2, 10)).await.unwrap();
    assert!(
        !guess(s, LOGIN, ADA, 1, 20).await,
        "the earlier code is gone"
    );
    assert!(guess(s, LOGIN, ADA, 2, 20).await);
    // The replacement's own expiry holds, not the earlier one's.
    s.otp.put_otp(code(LOGIN, ADA, 3, 0)).await.unwrap();
    s.otp.put_otp(code(LOGIN, ADA, 4, 100)).await.unwrap();
    assert!(guess(s, LOGIN, ADA, 4, TTL + 50).await);
}

/// MUST start the count of wrong guesses again with the new code.
async fn a_new_code_starts_the_count_of_wrong_guesses_again(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    for _ in 1..OTP_MAX_ATTEMPTS {
        assert!(!guess(s, LOGIN, ADA, 9, 1).await);
    }
    s.otp.put_otp(code(LOGIN, ADA, 2, 2)).await.unwrap();
    for _ in 1..OTP_MAX_ATTEMPTS {
        assert!(!guess(s, LOGIN, ADA, 9, 3).await);
    }
    assert!(
        guess(s, LOGIN, ADA, 2, 4).await,
        "the new code has its own guesses"
    );
}

/// Codes for another purpose or another target MUST be neither replaced nor spent.
async fn codes_of_other_purposes_or_targets_are_apart(s: &Fresh) {
    let reset = OtpPurpose::PasswordReset;
    let bob = "user:bob";
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    s.otp.put_otp(code(reset, ADA, 2, 0)).await.unwrap();
    s.otp.put_otp(code(LOGIN, bob, 3, 0)).await.unwrap();
    // Wrong guesses elsewhere, up to burning, do not touch ada's login code.
    for _ in 0..OTP_MAX_ATTEMPTS {
        assert!(
            !guess(s, reset, ADA, 1, 1).await,
            "a code proves only its purpose"
        );
    }
    assert!(!guess(s, LOGIN, bob, 1, 1).await);
    assert!(guess(s, LOGIN, ADA, 1, 2).await);
    assert!(
        !guess(s, reset, ADA, 2, 2).await,
        "burned by its own wrong guesses"
    );
    assert!(
        guess(s, LOGIN, bob, 3, 2).await,
        "one wrong guess leaves it working"
    );
}

/// MUST count wrong guesses; the `OTP_MAX_ATTEMPTS`-th deletes the code.
async fn the_last_allowed_wrong_guess_burns_the_code(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    for _ in 1..OTP_MAX_ATTEMPTS {
        assert!(!guess(s, LOGIN, ADA, 9, 1).await);
    }
    assert!(
        guess(s, LOGIN, ADA, 1, 2).await,
        "one guess short of burning"
    );

    s.otp.put_otp(code(LOGIN, ADA, 2, 10)).await.unwrap();
    for _ in 0..OTP_MAX_ATTEMPTS {
        assert!(!guess(s, LOGIN, ADA, 9, 11).await);
    }
    assert!(!guess(s, LOGIN, ADA, 2, 12).await, "burned");
}

/// MUST refuse a code at or after `expires_at`, even the right one, and delete it.
async fn an_expired_code_is_refused_even_when_right_and_deleted(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    assert!(!guess(s, LOGIN, ADA, 1, TTL).await, "exactly at expires_at");
    // Deleted: even a guess stamped earlier (another instance's clock) finds nothing.
    assert!(!guess(s, LOGIN, ADA, 1, TTL - 1).await);
}

/// Single use under contention: of many right guesses at once exactly one MUST be accepted.
async fn of_right_guesses_at_once_exactly_one_is_accepted(s: &Fresh) {
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    let answers = futures::future::join_all((0..10).map(|_| guess(s, LOGIN, ADA, 1, 1))).await;
    assert_eq!(answers.iter().filter(|a| **a).count(), 1, "{answers:?}");
}

/// Guesses on one code MUST NOT interleave: wrong guesses at once are each counted.
async fn wrong_guesses_at_once_are_each_counted(s: &Fresh) {
    let n = usize::try_from(OTP_MAX_ATTEMPTS).unwrap();
    s.otp.put_otp(code(LOGIN, ADA, 1, 0)).await.unwrap();
    let answers = futures::future::join_all((0..n).map(|_| guess(s, LOGIN, ADA, 9, 1))).await;
    assert!(answers.iter().all(|a| !a));
    assert!(
        !guess(s, LOGIN, ADA, 1, 2).await,
        "burned by the guesses at once"
    );

    s.otp.put_otp(code(LOGIN, ADA, 2, 10)).await.unwrap();
    let answers = futures::future::join_all((1..n).map(|_| guess(s, LOGIN, ADA, 9, 11))).await;
    assert!(answers.iter().all(|a| !a));
    assert!(
        guess(s, LOGIN, ADA, 2, 12).await,
        "one guess short of burning"
    );
}

/// MUST forget codes that expired by the new code's `created_at`; live ones stay.
async fn a_new_code_forgets_codes_expired_by_then(s: &Fresh) {
    for target in ["email:a@example.com", "email:b@example.com", "user:cyd"] {
        s.otp
            .put_otp(code(OtpPurpose::Register, target, 1, 0))
            .await
            .unwrap();
    }
    s.otp.put_otp(code(LOGIN, "user:dee", 2, 5)).await.unwrap();
    assert_eq!(s.transfer.count(&OTP_CODES).await.unwrap(), 4);
    // Made exactly when the first three expire.
    s.otp.put_otp(code(LOGIN, ADA, 3, TTL)).await.unwrap();
    assert_eq!(
        s.transfer.count(&OTP_CODES).await.unwrap(),
        2,
        "the live code of dee and the new one"
    );
    assert!(guess(s, LOGIN, "user:dee", 2, TTL).await);
    assert!(guess(s, LOGIN, ADA, 3, TTL).await);
}
