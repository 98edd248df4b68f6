//! Per-request DataLoaders: a page of N items costs one statement per relation, not N.
use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    community, community_member::CommunityRole, contract, event_rsvp, gig, organization, outcome, profile,
    profile_skill, task, task_assignment, task_submission,
};
use uuid::Uuid;

use crate::{auth::Viewer, domain, error::AppError, state::AppState};

/// Profiles by id.
pub struct ProfileLoader(AppState);
/// Skills by profile id.
pub struct SkillsLoader(AppState);
/// Person profiles by user id.
pub struct PersonByUserLoader(AppState);
/// Organizations by id.
pub struct OrganizationLoader(AppState);
/// Communities by id.
pub struct CommunityLoader(AppState);
/// Member counts by community id.
pub struct MemberCountLoader(AppState);
/// The viewer's role by community id.
pub struct MyCommunityRoleLoader(AppState, Option<Uuid>);
/// Gigs by id.
pub struct GigLoader(AppState);
/// Required skills by gig id.
pub struct GigSkillsLoader(AppState);
/// The viewer's RSVP by event id.
pub struct MyRsvpLoader(AppState, Option<Uuid>);
/// Waitlist lengths by event id.
pub struct WaitlistCountLoader(AppState);
/// Contracts by id (callers check access).
pub struct ContractLoader(AppState);
/// Outcomes by contract id.
pub struct OutcomesLoader(AppState);
/// Outcomes by id.
pub struct OutcomeLoader(AppState);
/// Tasks by outcome id.
pub struct TasksLoader(AppState);
/// Submissions by task id, newest first.
pub struct SubmissionsLoader(AppState);
/// Assignment history by task id, oldest first.
pub struct HistoryLoader(AppState);

/// The loaders of one request.
pub struct Loaders {
    /// Profiles by id.
    pub profiles: Cached<ProfileLoader>,
    /// Skills by profile id.
    pub skills: Cached<SkillsLoader>,
    /// Person profiles by user id.
    pub people_by_user: Cached<PersonByUserLoader>,
    /// Organizations by id.
    pub organizations: Cached<OrganizationLoader>,
    /// Communities by id.
    pub communities: Cached<CommunityLoader>,
    /// Member counts by community id.
    pub member_counts: Cached<MemberCountLoader>,
    /// The viewer's role by community id.
    pub my_community_roles: Cached<MyCommunityRoleLoader>,
    /// Gigs by id.
    pub gigs: Cached<GigLoader>,
    /// Required skills by gig id.
    pub gig_skills: Cached<GigSkillsLoader>,
    /// The viewer's RSVP by event id.
    pub my_rsvps: Cached<MyRsvpLoader>,
    /// Waitlist lengths by event id.
    pub waitlist_counts: Cached<WaitlistCountLoader>,
    /// Contracts by id.
    pub contracts: Cached<ContractLoader>,
    /// Outcomes by contract id.
    pub outcomes: Cached<OutcomesLoader>,
    /// Outcomes by id.
    pub outcome: Cached<OutcomeLoader>,
    /// Tasks by outcome id.
    pub tasks: Cached<TasksLoader>,
    /// Submissions by task id.
    pub submissions: Cached<SubmissionsLoader>,
    /// Assignment history by task id.
    pub history: Cached<HistoryLoader>,
}

/// A loader that also caches within its request, so lists can prime it (`feed_many`).
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// A loader collecting keys for `window` (config `limits.loader_batch_window`) before it queries.
fn loader<T: Loader<Uuid>>(inner: T, window: Duration) -> Cached<T> {
    DataLoader::with_cache(inner, tokio::spawn, HashMapCache::default()).delay(window)
}

impl Loaders {
    /// Fresh loaders (and caches) for one request of `viewer`.
    pub fn new(state: &AppState, viewer: &Viewer) -> Self {
        let me = viewer.profile_id();
        let window = state.config.limits.loader_batch_window;
        Self {
            profiles: loader(ProfileLoader(state.clone()), window),
            skills: loader(SkillsLoader(state.clone()), window),
            people_by_user: loader(PersonByUserLoader(state.clone()), window),
            organizations: loader(OrganizationLoader(state.clone()), window),
            communities: loader(CommunityLoader(state.clone()), window),
            member_counts: loader(MemberCountLoader(state.clone()), window),
            my_community_roles: loader(MyCommunityRoleLoader(state.clone(), me), window),
            gigs: loader(GigLoader(state.clone()), window),
            gig_skills: loader(GigSkillsLoader(state.clone()), window),
            my_rsvps: loader(MyRsvpLoader(state.clone(), me), window),
            waitlist_counts: loader(WaitlistCountLoader(state.clone()), window),
            contracts: loader(ContractLoader(state.clone()), window),
            outcomes: loader(OutcomesLoader(state.clone()), window),
            outcome: loader(OutcomeLoader(state.clone()), window),
            tasks: loader(TasksLoader(state.clone()), window),
            submissions: loader(SubmissionsLoader(state.clone()), window),
            history: loader(HistoryLoader(state.clone()), window),
        }
    }
}

impl Loader<Uuid> for ProfileLoader {
    type Value = profile::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::profile::by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for SkillsLoader {
    type Value = Vec<profile_skill::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::profile::skills_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for PersonByUserLoader {
    type Value = profile::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::profile::by_user_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for OrganizationLoader {
    type Value = organization::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::organization::by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for CommunityLoader {
    type Value = community::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::community::by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for MemberCountLoader {
    type Value = i64;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::community::member_counts(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for MyCommunityRoleLoader {
    type Value = CommunityRole;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(me) = self.1 else { return Ok(HashMap::new()) };
        domain::community::roles_of(&self.0.db, me, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for GigLoader {
    type Value = gig::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::gig::by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for GigSkillsLoader {
    type Value = Vec<String>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::gig::skills_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for MyRsvpLoader {
    type Value = event_rsvp::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(me) = self.1 else { return Ok(HashMap::new()) };
        domain::event::rsvps_of(&self.0.db, me, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for WaitlistCountLoader {
    type Value = i64;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::event::waitlist_counts(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for ContractLoader {
    type Value = contract::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::contract::by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for OutcomesLoader {
    type Value = Vec<outcome::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::contract::outcomes_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for TasksLoader {
    type Value = Vec<task::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::contract::tasks_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for SubmissionsLoader {
    type Value = Vec<task_submission::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::task::review::submissions_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for HistoryLoader {
    type Value = Vec<task_assignment::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::task::review::history_of(&self.0.db, keys).await.map_err(Arc::new)
    }
}

impl Loader<Uuid> for OutcomeLoader {
    type Value = outcome::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        domain::contract::outcomes_by_ids(&self.0.db, keys).await.map_err(Arc::new)
    }
}
