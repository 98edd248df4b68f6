//! The state machines of contracts, outcomes and tasks: pure functions, tested on their own.
use entity::{contract::ContractStatus, outcome::OutcomeStatus, task::TaskStatus};

use crate::{
    domain::wire,
    error::{AppError, AppResult},
};

fn conflict<S: sea_orm::ActiveEnum<Value = String>>(kind: &str, from: S, to: S) -> AppError {
    AppError::conflict(format!("a {kind} cannot go from {} to {}", wire(from), wire(to)))
}

/// Checks a contract transition: DRAFT → OPEN → ACTIVE → COMPLETED; DRAFT/OPEN/ACTIVE →
/// CANCELLED; ACTIVE ⇄ DISPUTED; DISPUTED → CANCELLED.
pub fn contract(from: ContractStatus, to: ContractStatus) -> AppResult<ContractStatus> {
    use ContractStatus::*;
    let ok = matches!(
        (from, to),
        (Draft, Open)
            | (Open, Active)
            | (Active, Completed)
            | (Draft | Open | Active, Cancelled)
            | (Active, Disputed)
            | (Disputed, Active | Cancelled)
    );
    if ok { Ok(to) } else { Err(conflict("contract", from, to)) }
}

/// What a client does to a contract; each action starts from one state (or several, for
/// CANCEL) and ends in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractAction {
    /// DRAFT → OPEN.
    Open,
    /// OPEN → ACTIVE (funded; routing starts).
    Activate,
    /// ACTIVE → COMPLETED.
    Complete,
    /// DRAFT / OPEN / ACTIVE / DISPUTED → CANCELLED.
    Cancel,
    /// ACTIVE → DISPUTED.
    Dispute,
    /// DISPUTED → ACTIVE.
    Resolve,
}

impl ContractAction {
    /// The state an action leads to from `from`; CONFLICT naming both states when it does not apply.
    pub fn apply(self, from: ContractStatus) -> AppResult<ContractStatus> {
        use ContractStatus::*;
        let (to, applies) = match self {
            Self::Open => (Open, true),
            Self::Activate => (Active, from != Disputed),
            Self::Complete => (Completed, true),
            Self::Cancel => (Cancelled, true),
            Self::Dispute => (Disputed, true),
            Self::Resolve => (Active, from == Disputed),
        };
        if applies { contract(from, to) } else { Err(conflict("contract", from, to)) }
    }
}

/// Checks an outcome transition: PENDING → IN_PROGRESS → SUBMITTED → ACCEPTED / REJECTED;
/// REJECTED → IN_PROGRESS (rework).
pub fn outcome(from: OutcomeStatus, to: OutcomeStatus) -> AppResult<OutcomeStatus> {
    use OutcomeStatus::*;
    let ok = matches!(
        (from, to),
        (Pending, InProgress) | (InProgress, Submitted) | (Submitted, Accepted | Rejected) | (Rejected, InProgress)
    );
    if ok { Ok(to) } else { Err(conflict("outcome", from, to)) }
}

/// Checks a task transition: OPEN → OFFERED → ASSIGNED → SUBMITTED → ACCEPTED / REJECTED;
/// OPEN → ASSIGNED (claim, agent, direct assignment); OFFERED → OPEN (declined or lapsed);
/// ASSIGNED → OPEN (overdue or reassigned); REJECTED → SUBMITTED (rework) or OPEN
/// (re-routed); ACCEPTED → REJECTED only when the client rejects the whole outcome; any
/// unfinished state → CANCELLED.
pub fn task(from: TaskStatus, to: TaskStatus) -> AppResult<TaskStatus> {
    use TaskStatus::*;
    let ok = matches!(
        (from, to),
        (Open, Offered | Assigned)
            | (Offered, Assigned | Open)
            | (Assigned, Submitted | Open)
            | (Submitted, Accepted | Rejected)
            | (Rejected, Submitted | Open)
            | (Accepted, Rejected)
            | (Open | Offered | Assigned | Submitted | Rejected, Cancelled)
    );
    if ok { Ok(to) } else { Err(conflict("task", from, to)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_follow_their_machine_and_name_both_states_when_refused() {
        use ContractStatus::*;
        for (from, to) in [
            (Draft, Open),
            (Open, Active),
            (Active, Completed),
            (Active, Disputed),
            (Disputed, Active),
            (Open, Cancelled),
        ] {
            assert!(contract(from, to).is_ok(), "{from:?} -> {to:?}");
        }
        for (from, to) in
            [(Draft, Active), (Completed, Cancelled), (Cancelled, Open), (Open, Completed), (Draft, Disputed)]
        {
            let message = contract(from, to).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(&wire(from)) && message.contains(&wire(to)), "{message}");
        }
    }

    #[test]
    fn actions_start_from_their_own_states() {
        use ContractStatus::*;
        assert_eq!(ContractAction::Activate.apply(Open).ok(), Some(Active));
        assert_eq!(ContractAction::Resolve.apply(Disputed).ok(), Some(Active));
        assert!(ContractAction::Activate.apply(Disputed).is_err(), "resolving a dispute is RESOLVE");
        assert!(ContractAction::Resolve.apply(Open).is_err(), "nothing to resolve");
        assert_eq!(ContractAction::Cancel.apply(Disputed).ok(), Some(Cancelled));
        assert!(ContractAction::Complete.apply(Open).is_err());
    }

    #[test]
    fn outcomes_allow_rework_but_not_skipping_review() {
        use OutcomeStatus::*;
        assert!(outcome(Pending, InProgress).is_ok());
        assert!(outcome(Submitted, Rejected).is_ok());
        assert!(outcome(Rejected, InProgress).is_ok());
        assert!(outcome(InProgress, Accepted).is_err());
        assert!(outcome(Accepted, Rejected).is_err());
    }

    #[test]
    fn tasks_move_through_offers_assignment_and_review() {
        use TaskStatus::*;
        assert!(task(Open, Offered).is_ok());
        assert!(task(Offered, Open).is_ok());
        assert!(task(Assigned, Submitted).is_ok());
        assert!(task(Rejected, Submitted).is_ok(), "rework is resubmitted");
        assert!(task(Rejected, Open).is_ok(), "rejected twice: re-routed");
        assert!(task(Accepted, Rejected).is_ok(), "outcome rejected: accepted work goes back");
        assert!(task(Accepted, Cancelled).is_err());
        assert!(task(Offered, Submitted).is_err(), "an offer must be accepted before work is submitted");
        assert!(task(Cancelled, Open).is_err());
        assert!(task(Open, Submitted).is_err());
        assert!(task(Submitted, Assigned).is_err());
    }
}
