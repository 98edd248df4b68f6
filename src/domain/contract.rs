//! Outcome contracts. For now only the seam that accepting a proposal calls.

use entity::{gig, proposal};
use uuid::Uuid;

use super::UnitOfWork;
use crate::error::AppResult;

/// Called inside the transaction that accepts a proposal. The contracts issue turns this into
/// "create a contract with one outcome for the proposal's amount and one task assigned to its
/// author"; until then no contract exists and `None` is returned.
pub async fn create_from_proposal(
    _work: &mut UnitOfWork<'_>,
    _gig: &gig::Model,
    _proposal: &proposal::Model,
) -> AppResult<Option<Uuid>> {
    Ok(None)
}
