//! The ledger's own guards: the database refuses bad postings, and `ledger-check` reports corruption.
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_database_itself_refuses_unbalanced_transactions_negative_balances_and_rewrites() {
    use entity::{ledger_account, ledger_line, ledger_transaction};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};

    let app = spawn_app().await;
    let db = &app.state.db;
    let now = chrono::Utc::now();
    let open = |kind, may_go_negative| ledger_account::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(kind),
        owner_id: Set(uuid::Uuid::new_v4()),
        currency: Set("EUR".into()),
        balance_cents: Set(0),
        may_go_negative: Set(may_go_negative),
        created_at: Set(now),
    };
    let escrow = open(ledger_account::AccountKind::Escrow, false).insert(db).await.unwrap();
    let fees = open(ledger_account::AccountKind::PlatformFees, false).insert(db).await.unwrap();
    let outside = open(ledger_account::AccountKind::ClientFunding, true).insert(db).await.unwrap();
    let transaction = |memo: &str| ledger_transaction::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(ledger_transaction::TransactionKind::Funding),
        contract_id: Set(None),
        outcome_id: Set(None),
        payout_id: Set(None),
        dispute_id: Set(None),
        actor_profile_id: Set(None),
        provider_ref: Set(None),
        memo: Set(memo.into()),
        sealed: Set(false),
        created_at: Set(now),
    };
    let line = |txn: uuid::Uuid, account: uuid::Uuid, cents: i64| ledger_line::ActiveModel {
        transaction_id: Set(txn),
        account_id: Set(account),
        currency: Set("EUR".into()),
        amount_cents: Set(cents),
        earned_by_profile_id: Set(None),
        task_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    let seal = |t: &ledger_transaction::Model| {
        let mut sealed: ledger_transaction::ActiveModel = t.clone().into();
        sealed.sealed = Set(true);
        sealed
    };

    // Money cannot leave an account that holds none.
    let overdraw = db.begin().await.unwrap();
    let t = transaction("overdraw").insert(&overdraw).await.unwrap();
    let refused = ledger_line::Entity::insert_many([line(t.id, escrow.id, -5), line(t.id, fees.id, 5)])
        .exec_without_returning(&overdraw)
        .await;
    assert!(refused.is_err(), "a negative escrow was accepted");
    overdraw.rollback().await.ok();

    // A transaction whose lines do not sum to zero is never sealed (nor, on PostgreSQL, committed).
    let lopsided = db.begin().await.unwrap();
    let t = transaction("lopsided").insert(&lopsided).await.unwrap();
    let outcome: Result<(), sea_orm::DbErr> = async {
        ledger_line::Entity::insert(line(t.id, fees.id, 7)).exec_without_returning(&lopsided).await?;
        seal(&t).update(&lopsided).await?;
        lopsided.commit().await
    }
    .await;
    assert!(outcome.is_err(), "an unbalanced transaction was sealed and committed");

    // A balanced posting goes through; then its lines are never rewritten, nor anything removed.
    let fine = db.begin().await.unwrap();
    let t = transaction("fine").insert(&fine).await.unwrap();
    ledger_line::Entity::insert_many([line(t.id, outside.id, -5), line(t.id, fees.id, 5)])
        .exec_without_returning(&fine)
        .await
        .unwrap();
    seal(&t).update(&fine).await.unwrap();
    fine.commit().await.unwrap();
    let late = ledger_line::Entity::insert(line(t.id, fees.id, 1)).exec_without_returning(db).await;
    assert!(late.is_err(), "a sealed transaction took another line");
    let backend = db.get_database_backend();
    for statement in
        ["UPDATE ledger_lines SET amount_cents = 0", "DELETE FROM ledger_lines", "DELETE FROM ledger_transactions"]
    {
        let changed = db.execute_raw(sea_orm::Statement::from_string(backend, statement)).await;
        assert!(changed.is_err(), "{statement} rewrote the ledger");
    }
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn ledger_check_exits_non_zero_on_a_corrupted_ledger() {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

    let dir = std::env::temp_dir().join(format!("semasocial-ledger-check-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("ledger.db").display());
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_semasocial"))
            .arg("ledger-check")
            .env("DATABASE_URL", &url)
            .env("DATA_DIR", &dir)
            .output()
            .unwrap()
    };
    let sound = run();
    assert!(sound.status.success(), "{}", String::from_utf8_lossy(&sound.stderr));

    // Someone with database access bypasses the triggers and books money out of thin air.
    let mut options = sea_orm::ConnectOptions::new(url.clone());
    options.max_connections(1);
    let db = sea_orm::Database::connect(options).await.unwrap();
    db.execute_unprepared(
        "DROP TRIGGER ledger_lines_apply; DROP TRIGGER ledger_transactions_seal; PRAGMA ignore_check_constraints = ON;",
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let account = entity::ledger_account::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(entity::ledger_account::AccountKind::Escrow),
        owner_id: Set(uuid::Uuid::new_v4()),
        currency: Set("EUR".into()),
        balance_cents: Set(-5),
        may_go_negative: Set(false),
        created_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let forged = entity::ledger_transaction::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(entity::ledger_transaction::TransactionKind::Funding),
        contract_id: Set(None),
        outcome_id: Set(None),
        payout_id: Set(None),
        dispute_id: Set(None),
        actor_profile_id: Set(None),
        provider_ref: Set(None),
        memo: Set("forged".into()),
        sealed: Set(true),
        created_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    entity::ledger_line::ActiveModel {
        transaction_id: Set(forged.id),
        account_id: Set(account.id),
        currency: Set("EUR".into()),
        amount_cents: Set(7),
        earned_by_profile_id: Set(None),
        task_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    db.close().await.ok();
    let broken = run();
    let report = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{report}");
    assert!(report.contains("does not balance"), "{report}");
    assert!(report.contains("is negative"), "{report}");
    assert!(report.contains("holds -5 but its lines sum to 7"), "{report}");
    std::fs::remove_dir_all(&dir).ok();
}
