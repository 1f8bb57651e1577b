//! The budget of live contexts: who keeps takeover, who is reset.

use crate::deflate::{negotiate, parse_offers, Agreed, ContextBudget, DeflateConfig};

fn agreed(offer: &str) -> Agreed {
    negotiate(&parse_offers(&[offer]), &DeflateConfig::enabled()).expect("accepted")
}

#[test]
fn past_the_budget_both_sides_reset_and_a_freed_place_is_taken_again() {
    let budget = ContextBudget::new(1);
    let (first, permit) = budget.admit(agreed("permessage-deflate"));
    assert_eq!(first.response_header(), "permessage-deflate");
    assert!(permit.is_some());
    // The client did not offer client_no_context_takeover: imposed anyway.
    let (second, none) = budget.admit(agreed("permessage-deflate"));
    assert!(none.is_none());
    assert_eq!(
        second.response_header(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    assert_eq!(budget.live(), 1);
    drop(permit);
    assert_eq!(budget.live(), 0);
    let (third, permit) = budget.admit(agreed("permessage-deflate"));
    assert!(!third.server_no_context_takeover && permit.is_some());
}

#[test]
fn an_agreement_with_no_context_needs_no_place() {
    let budget = ContextBudget::new(0);
    let offer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let (a, permit) = budget.admit(agreed(offer));
    assert_eq!(a, agreed(offer));
    assert!(permit.is_none());
    // One way is enough to count: refused here, so both ways reset.
    let (b, permit) = budget.admit(agreed("permessage-deflate; server_no_context_takeover"));
    assert!(permit.is_none());
    assert!(b.server_no_context_takeover && b.client_no_context_takeover);
    assert_eq!(budget.live(), 0);
}
