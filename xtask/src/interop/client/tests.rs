use std::collections::HashSet;

use super::{cases, Expect};

#[test]
fn each_case_has_its_own_name_and_a_judgeable_outcome() {
    let cases = cases();
    let names: HashSet<_> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    for case in &cases {
        match case.expect {
            Expect::Agreed(s, c, ..) => {
                assert!((9..=15).contains(&s) && (8..=15).contains(&c), "{case:?}");
            }
            Expect::Plain => {}
        }
    }
    // Compression off on either side, a client window of 8 (agreed, the
    // client sending uncompressed), every server window.
    assert!(cases.iter().filter(|c| c.expect == Expect::Plain).count() >= 2);
    assert!(cases
        .iter()
        .any(|c| matches!(c.expect, Expect::Agreed(_, 8, ..)) && !c.expect.client_compresses()));
    for bits in 9..=15 {
        assert!(
            cases
                .iter()
                .any(|c| c.expect == Expect::Agreed(bits, 15, false, false)),
            "{bits}"
        );
    }
}

#[test]
fn the_agreed_line_is_the_clients() {
    assert_eq!(
        Expect::Agreed(10, 12, true, false).agreed_line(),
        "agreed: server_max_window_bits=10 client_max_window_bits=12 \
         server_no_context_takeover=true client_no_context_takeover=false"
    );
    assert_eq!(Expect::Plain.agreed_line(), "agreed: none");
}
