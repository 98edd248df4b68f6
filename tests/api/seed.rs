//! `seed-demo` fills a database GraphiQL can show, and is safe to run twice.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
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

#[tokio::test]
async fn seed_demo_at_a_scale_adds_a_deterministic_data_set_once() {
    let path = std::env::temp_dir().join(format!("semasocial-scale-{}.db", uuid::Uuid::new_v4()));
    let mut config = Config::new(format!("sqlite://{}?mode=rwc", path.display()), crate::helpers::TEST_JWT_SECRET);
    config.hashing = HashingConfig { memory_kib: 64, iterations: 1 };

    let summary = semasocial::seed::run_scaled(config.clone(), 0.002).await.unwrap();
    assert!(summary.contains("seeded at scale 0.002"), "{summary}");
    let again = semasocial::seed::run_scaled(config.clone(), 0.002).await.unwrap();
    assert!(again.contains("benchmark data already present"), "{again}");
    assert!(semasocial::seed::run_scaled(config.clone(), 0.0).await.is_err());

    let counts = semasocial::seed::scale::Counts::at(0.002);
    assert_eq!((counts.people, counts.gigs, counts.posts), (20, 200, 300));
    let db = semasocial::startup::connect_database(&config).await.unwrap();
    // The demo set (3 people, 3 gigs…) plus the scale set.
    assert_eq!(entity::user::Entity::find().count(&db).await.unwrap(), 3 + 20);
    assert_eq!(entity::gig::Entity::find().count(&db).await.unwrap(), 3 + 200);
    assert!(entity::gig_skill::Entity::find().count(&db).await.unwrap() >= 400);
    assert_eq!(entity::post::Entity::find().count(&db).await.unwrap(), 2 + 300);
    assert_eq!(entity::comment::Entity::find().count(&db).await.unwrap(), 2 + 100);
    assert!(entity::event_rsvp::Entity::find().count(&db).await.unwrap() >= 40 * 5);
    // Contracts go through the domain: funded, active, two outcomes of two tasks each; some
    // work accepted and paid, and the ledger holds together.
    assert_eq!(counts.contracts, 4);
    assert_eq!(entity::contract::Entity::find().count(&db).await.unwrap(), 1 + 4);
    assert_eq!(entity::task::Entity::find().count(&db).await.unwrap(), 2 + 4 * 4);
    let accepted = entity::outcome::Entity::find()
        .filter(entity::outcome::Column::Status.eq(entity::outcome::OutcomeStatus::Accepted))
        .count(&db)
        .await
        .unwrap();
    assert!(accepted >= 1, "some outcomes are accepted");
    assert!(entity::payout::Entity::find().count(&db).await.unwrap() >= 1, "accepted work is paid");
    assert_eq!(semasocial::domain::ledger::check::run(&db).await.unwrap(), Vec::<String>::new());
    // Rows follow from their number: the first person has the same id in every run.
    let first = entity::profile::Entity::find()
        .filter(entity::profile::Column::Handle.eq("person0"))
        .one(&db)
        .await
        .unwrap()
        .expect("person0");
    assert_eq!(first.id, uuid::Uuid::from_u64_pair(0x5eed_0000_0000_0001, 0));
    // Search finds seeded gigs through the FTS index the triggers keep.
    let found = semasocial::domain::gig::search(
        &db,
        &semasocial::auth::Viewer::Anonymous,
        semasocial::domain::gig::GigFilter { text: Some("documented".into()), ..Default::default() },
        semasocial::domain::gig::GigSort::Newest,
        semasocial::domain::page::PageRequest { first: 5, after: None },
    )
    .await
    .unwrap();
    assert_eq!(found.items.len(), 5, "seeded gigs are searchable");
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
