//! Per-request DataLoaders: a page of N items costs one statement per relation, not N.
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{organization, profile, profile_skill};
use uuid::Uuid;

use crate::{domain, error::AppError, state::AppState};

/// Profiles by id.
pub struct ProfileLoader(AppState);
/// Skills by profile id.
pub struct SkillsLoader(AppState);
/// Person profiles by user id.
pub struct PersonByUserLoader(AppState);
/// Organizations by id.
pub struct OrganizationLoader(AppState);

/// The loaders of one request.
pub struct Loaders {
    /// Profiles by id.
    pub profiles: DataLoader<ProfileLoader>,
    /// Skills by profile id.
    pub skills: DataLoader<SkillsLoader>,
    /// Person profiles by user id.
    pub people_by_user: DataLoader<PersonByUserLoader>,
    /// Organizations by id.
    pub organizations: DataLoader<OrganizationLoader>,
}

impl Loaders {
    /// Fresh loaders (and caches) for one request.
    pub fn new(state: &AppState) -> Self {
        Self {
            profiles: DataLoader::new(ProfileLoader(state.clone()), tokio::spawn),
            skills: DataLoader::new(SkillsLoader(state.clone()), tokio::spawn),
            people_by_user: DataLoader::new(PersonByUserLoader(state.clone()), tokio::spawn),
            organizations: DataLoader::new(OrganizationLoader(state.clone()), tokio::spawn),
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
