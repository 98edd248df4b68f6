//! Migrations run up, down and up again on both databases, and the references they declare hold.
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, Set};

#[tokio::test]
async fn migrations_run_up_down_and_up_again_and_references_hold() {
    let app = crate::helpers::spawn_app().await;
    let db = &app.state.db;
    Migrator::down(db, None).await.expect("every migration rolls back");
    Migrator::up(db, None).await.expect("and applies again");
    let ada = app.register("ada").await;
    assert_eq!(app.count("users").await, 1);

    let contract = |client: uuid::Uuid| entity::contract::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        client_profile_id: Set(client),
        organization_id: Set(None),
        gig_id: Set(None),
        title: Set("t".into()),
        description: Set(String::new()),
        currency: Set("EUR".into()),
        budget_cents: Set(100),
        status: Set(entity::contract::ContractStatus::Draft),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
    };
    let orphan = contract(uuid::Uuid::new_v4()).insert(db).await;
    assert!(orphan.is_err(), "a contract of a profile that does not exist was stored");
    contract(ada.profile_id.parse().unwrap()).insert(db).await.expect("a real client's contract is stored");

    // The foreign-key migration rebuilds tables on SQLite: rows survive it both ways.
    Migrator::down(db, Some(1)).await.expect("the keys come off");
    Migrator::up(db, None).await.expect("and back on, with rows in place");
    assert_eq!((app.count("contracts").await, app.count("profiles").await), (1, 1));
    assert!(contract(uuid::Uuid::new_v4()).insert(db).await.is_err(), "the keys hold again");
}
