//! Business rules and state machines, one module per area. No axum or async-graphql here.
pub mod account;
pub mod activity;
pub mod agent;
pub mod community;
pub mod contract;
pub mod conversation;
pub mod event;
pub mod gig;
pub mod organization;
pub mod page;
pub mod profile;
pub mod proposal;
pub mod task;
pub mod validate;

pub use activity::{NewActivity, UnitOfWork};

/// Groups rows (already in the wanted order) by `key`, keeping their order within a group: the
/// shape every "children of many parents in one statement" query hands to a loader.
pub(crate) fn group<K, T, V>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
    value: impl Fn(T) -> V,
) -> std::collections::HashMap<K, Vec<V>>
where
    K: Eq + std::hash::Hash,
{
    let mut map: std::collections::HashMap<K, Vec<V>> = std::collections::HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(value(row));
    }
    map
}
