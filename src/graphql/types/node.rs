//! The Relay `Node` interface: every object a client may refetch by its id alone.
use async_graphql::{ID, Interface};

use super::{
    Organization, Profile,
    community::{Community, Post},
    contract::Contract,
    event::Event,
    gig::{Gig, Proposal},
    task::Task,
};

/// An object with a globally unique `id`, refetchable with `node(id:)` (Relay's global object
/// identification).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Globally unique id of the object."))]
pub enum Node {
    /// A profile.
    Profile(Profile),
    /// An organization.
    Organization(Organization),
    /// A community.
    Community(Community),
    /// A post.
    Post(Post),
    /// A gig.
    Gig(Gig),
    /// A proposal.
    Proposal(Proposal),
    /// An event.
    Event(Event),
    /// A contract.
    Contract(Contract),
    /// A task.
    Task(Task),
}
