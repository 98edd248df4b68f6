//! Disputes: the money is held until an arbiter or a concession settles it.
use serde_json::json;

use super::{OPEN_DISPUTE, REJECT_OUTCOME, RESOLVE_DISPUTE, escrow, pending_of, submitted};
use crate::helpers::{error_code, error_field, spawn_app};

#[tokio::test]
async fn disputes_hold_the_money_until_an_arbiter_or_a_concession_settles_it() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 1_000, &[1, 1]).await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    let eve = app.register("eve").await;

    // Only a rejected (or overdue) outcome is disputed, and only by the people on it.
    let input =
        |key: &str| json!({ "i": { "outcomeId": s.outcome, "reason": "The launch slipped", "idempotencyKey": key } });
    assert_eq!(error_code(&app.gql(OPEN_DISPUTE, input("d-0"), Some(&s.workers[0].access_token)).await), "CONFLICT");
    app.gql(
        REJECT_OUTCOME,
        json!({ "i": { "outcomeId": s.outcome, "feedback": "Not live" } }),
        Some(&s.client.access_token),
    )
    .await;
    assert_eq!(error_code(&app.gql(OPEN_DISPUTE, input("d-1"), Some(&eve.access_token)).await), "NOT_FOUND");
    let opened = app.gql(OPEN_DISPUTE, input("d-1"), Some(&s.workers[0].access_token)).await;
    assert_eq!(opened["data"]["openDispute"]["status"], "OPEN", "{opened}");
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap().to_owned();
    let replay = app.gql(OPEN_DISPUTE, input("d-1"), Some(&s.workers[0].access_token)).await;
    assert_eq!(replay["data"]["openDispute"]["id"], dispute.as_str(), "the first dispute: {replay}");
    let again = app.gql(OPEN_DISPUTE, input("d-2"), Some(&s.client.access_token)).await;
    assert_eq!(error_code(&again), "CONFLICT", "once per outcome");
    assert_eq!(escrow(&app, &s).await["held"], 1_000);

    // A worker cannot award itself the money; the judge splits it.
    let release = json!({ "i": { "disputeId": dispute, "resolution": "RELEASE", "idempotencyKey": "r-0" } });
    assert_eq!(error_code(&app.gql(RESOLVE_DISPUTE, release, Some(&s.workers[0].access_token)).await), "FORBIDDEN");
    let bad = app
        .gql(
            RESOLVE_DISPUTE,
            json!({ "i": { "disputeId": dispute, "resolution": "SPLIT", "releaseCents": 1_000, "idempotencyKey": "r-1" } }),
            Some(&judge.access_token),
        )
        .await;
    assert_eq!((error_code(&bad), error_field(&bad)), ("BAD_USER_INPUT", "releaseCents"));
    let split =
        json!({ "i": { "disputeId": dispute, "resolution": "SPLIT", "releaseCents": 600, "idempotencyKey": "r-2" } });
    let done = app.gql(RESOLVE_DISPUTE, split.clone(), Some(&judge.access_token)).await;
    assert_eq!(
        done["data"]["resolveDispute"],
        json!({ "status": "RESOLVED", "resolution": "SPLIT", "released": { "amountCents": 600 }, "refunded": { "amountCents": 400 } }),
        "{done}"
    );
    let later = json!({ "i": { "disputeId": dispute, "resolution": "REFUND", "idempotencyKey": "r-3" } });
    assert_eq!(
        error_code(&app.gql(RESOLVE_DISPUTE, later, Some(&judge.access_token)).await),
        "CONFLICT",
        "resolved once"
    );
    // 600 released: shares 300/300, fee 15 split 8/7.
    assert_eq!(
        (pending_of(&app, &s.workers[0]).await, pending_of(&app, &s.workers[1]).await),
        (json!(292), json!(293))
    );
    assert_eq!(
        escrow(&app, &s).await,
        json!({ "funded": 1_000, "released": 600, "refunded": 400, "held": 0, "fees": 15, "remaining": 0 })
    );
    app.assert_ledger_sound().await;
}
