//! `seed-demo` fills a database GraphiQL can show, and is safe to run twice.
use sea_orm::{EntityTrait, PaginatorTrait};
use semasocial::config::{Config, HashingConfig};

#[tokio::test]
async fn seed_demo_creates_people_an_agent_an_organization_and_a_contract_once() {
    let path = std::env::temp_dir().join(format!("semasocial-seed-{}.db", uuid::Uuid::new_v4()));
    let mut config = Config::new(format!("sqlite://{}?mode=rwc", path.display()), crate::helpers::TEST_JWT_SECRET);
    config.hashing = HashingConfig { memory_kib: 64, iterations: 1 };

    let summary = semasocial::seed::run(config.clone()).await.unwrap();
    assert!(summary.contains("ssa_"), "the agent token is printed once: {summary}");
    let again = semasocial::seed::run(config.clone()).await.unwrap();
    assert!(again.contains("already present"));

    let db = semasocial::startup::connect_database(&config).await.unwrap();
    assert_eq!(entity::user::Entity::find().count(&db).await.unwrap(), 3);
    assert_eq!(entity::profile::Entity::find().count(&db).await.unwrap(), 4);
    assert_eq!(entity::organization_member::Entity::find().count(&db).await.unwrap(), 2);
    assert_eq!(entity::community::Entity::find().count(&db).await.unwrap(), 2);
    assert_eq!(entity::post::Entity::find().count(&db).await.unwrap(), 2);
    assert_eq!(entity::comment::Entity::find().count(&db).await.unwrap(), 2);
    assert_eq!(entity::gig::Entity::find().count(&db).await.unwrap(), 3);
    assert_eq!(entity::proposal::Entity::find().count(&db).await.unwrap(), 1);
    let tasks = entity::task::Entity::find().all(&db).await.unwrap();
    let mut statuses: Vec<_> = tasks.iter().map(|t| format!("{:?}", t.status)).collect();
    statuses.sort();
    assert_eq!(statuses, ["Assigned", "Offered"], "activation routed both tasks");
    let event = entity::event::Entity::find().one(&db).await.unwrap().expect("an event");
    assert_eq!((event.going_count, event.capacity), (2, 2), "the meetup is full");
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
