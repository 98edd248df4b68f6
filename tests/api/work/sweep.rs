//! The sweep: lapsed offers and overdue work are taken back once, however many instances sweep.
use serde_json::{Value, json};

use super::{TASK, act, activate, contract, end, history, id, outcome, task, view, worker};
use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

#[tokio::test]
async fn lapsed_offers_and_overdue_work_are_swept_and_history_keeps_why() {
    let app = spawn_app().await;
    let mut ada = app.register("ada").await;
    worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let mut cat = worker(&app, "cat", json!([{ "skill": "design", "level": 3 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let due = app.clock_now() + chrono::Duration::days(3);
    let t = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"], "dueAt": due.to_rfc3339() }),
    )
    .await);
    activate(&app, &ada, &c).await;
    assert_eq!(view(&app, &t, &ada.access_token).await["assignee"]["handle"], "bob");

    // Nothing is due yet (the offer's mail has left on its own, not by the sweep).
    app.mails_settled().await;
    assert_eq!(app.sweep().await, Default::default());
    // Bob lets the offer lapse: Cat is offered the task.
    app.clock.advance(chrono::Duration::hours(25));
    let report = app.sweep().await;
    assert_eq!((report.lapsed, report.overdue), (1, 0));
    (ada, cat) = (app.login(&ada).await, app.login(&cat).await);
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!((v["status"].as_str(), v["assignee"]["handle"].as_str()), (Some("OFFERED"), Some("cat")), "{v}");
    app.mails_settled().await;
    assert_eq!(app.sweep().await, Default::default(), "a second pass finds nothing");
    assert_eq!(
        act(&app, "acceptTaskOffer", &t, &cat.access_token).await["data"]["acceptTaskOffer"]["status"],
        "ASSIGNED"
    );

    // Cat lets the due date pass: the task is taken back; nobody new is left, so it stays OPEN.
    app.clock.advance(chrono::Duration::days(3));
    let report = app.sweep().await;
    assert_eq!((report.lapsed, report.overdue), (0, 1));
    (ada, cat) = (app.login(&ada).await, app.login(&cat).await);
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!((v["status"].as_str(), v["assignee"].is_null()), (Some("OPEN"), true), "{v}");
    assert_eq!(history(&v), [end("bob", Some("lapsed")), end("cat", Some("overdue"))]);
    assert_eq!(error_code(&view_err(&app, &t, &cat).await), "NOT_FOUND", "Cat lost sight of it");

    // The client reassigns by hand; someone given the task after its due date is not swept.
    let body = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status assignee { handle } } }",
            json!({ "i": { "taskId": t, "profileId": cat.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["reassignTask"], json!({ "status": "OFFERED", "assignee": { "handle": "cat" } }), "{body}");
    act(&app, "acceptTaskOffer", &t, &cat.access_token).await;
    app.clock.advance(chrono::Duration::days(1));
    app.mails_settled().await;
    assert_eq!(app.sweep().await, Default::default());
    let ada = app.login(&ada).await;
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!(history(&v).last(), Some(&end("cat", None)));
    assert_eq!(v["history"].as_array().map(|h| h[2]["reason"].clone()), Some(json!("reassigned")));
}

async fn view_err(app: &TestApp, task: &str, who: &TestUser) -> Value {
    app.gql(TASK, json!({ "id": task }), Some(&who.access_token)).await
}

#[tokio::test]
#[ignore = "needs PostgreSQL: two instances sweeping one database"]
async fn two_instances_sweeping_at_once_handle_each_lapsed_offer_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for (i, handle) in ["p_one", "p_two", "p_three"].iter().enumerate() {
        worker(&app, handle, json!([{ "skill": "design", "level": 5 - i }])).await;
    }
    let c = contract(&app, &ada, None, 100_000).await;
    let o = outcome(&app, &ada, &c, "Many", 100_000, json!([{ "description": "Done" }])).await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        tasks.push(id(&task(
            &app,
            &ada,
            &o,
            json!({ "title": format!("t{n}"), "mode": "JUDGMENT", "skills": ["design"] }),
        )
        .await));
    }
    activate(&app, &ada, &c).await;
    app.clock.advance(chrono::Duration::hours(25));
    let other = app.another_instance().await;
    let (a, b) = tokio::join!(
        semasocial::domain::task::sweep::run_once(&app.state),
        semasocial::domain::task::sweep::run_once(&other)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.lapsed + b.lapsed, 12, "every lapsed offer handled exactly once: {a:?} {b:?}");
    assert_eq!(app.count("task_assignments WHERE end_reason = 'lapsed'").await, 12);
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 12, "one open offer per task");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: a row lock held by another transaction"]
async fn a_contract_another_instance_is_sweeping_is_left_to_it_and_swept_on_the_next_pass() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let app = spawn_app().await;
    let ada = app.register("ada").await;
    worker(&app, "p_one", json!([{ "skill": "design", "level": 5 }])).await;
    worker(&app, "p_two", json!([{ "skill": "design", "level": 4 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await;
    activate(&app, &ada, &c).await;
    app.clock.advance(chrono::Duration::hours(25));

    // Another instance holds the contract (its sweep is under way): this pass leaves it alone.
    let other = app.state.db.begin().await.unwrap();
    other.execute_unprepared("SELECT id FROM contracts FOR UPDATE").await.unwrap();
    let report = app.sweep().await;
    assert_eq!(report.lapsed, 0, "{report:?}");
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 1, "the lapsed offer is untouched");
    other.rollback().await.unwrap();

    // Released, the contract is swept: the offer lapses and goes to the next candidate.
    assert_eq!(app.sweep().await.lapsed, 1);
    assert_eq!(app.count("task_assignments WHERE end_reason = 'lapsed'").await, 1);
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 1, "offered to p_two");
}
