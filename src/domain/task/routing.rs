//! How a task is routed: candidates are scored by skill match (levels count), reputation,
//! current open load, whether their rate fits the task's share of the budget and their
//! standing in communities about the task's skills. Pure functions; the database work lives
//! in `super::candidates`.
use entity::{profile::ProfileKind, task::TaskMode};

/// What routing knows about one candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateFacts {
    /// HUMAN or AGENT.
    pub kind: ProfileKind,
    /// Skills with levels 1–5.
    pub skills: Vec<(String, i16)>,
    /// Reputation, 0–5.
    pub reputation: f64,
    /// Tasks currently offered to or assigned to the candidate.
    pub open_tasks: u64,
    /// The candidate's usual rate in minor units, if set (same currency assumed).
    pub rate_cents: Option<i64>,
    /// Standing in communities tagged with the required skills, 0–1 (see [`standing`]).
    pub community: f64,
}

/// A candidate's score and its parts, each between 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Weighted total.
    pub total: f64,
    /// Average over required skills of level / 5 (0 for a missing skill).
    pub skill_match: f64,
    /// Reputation / 5.
    pub reputation: f64,
    /// 1 / (1 + open tasks).
    pub availability: f64,
    /// 1 when the rate fits the task's share, less the more it exceeds it; 0.5 when unknown.
    pub rate_fit: f64,
    /// Average over required skills of the standing in a community tagged with the skill.
    pub community_standing: f64,
}

/// Weights of skill match, reputation, availability, rate fit and community standing; they
/// sum to 1.
pub const WEIGHTS: (f64, f64, f64, f64, f64) = (0.45, 0.2, 0.15, 0.1, 0.1);

/// Posts in a community after which activity adds nothing more to standing.
pub const ACTIVE_POSTS: u64 = 10;

/// Standing for one skill from the best community tagged with it: 0 for no membership,
/// 0.5 for a member, up to 1 with [`ACTIVE_POSTS`] posts there. `memberships` holds, per
/// community tagged with the skill the candidate belongs to, its posts there.
pub fn skill_standing(memberships: impl IntoIterator<Item = u64>) -> f64 {
    memberships
        .into_iter()
        .map(|posts| 0.5 + 0.5 * (posts.min(ACTIVE_POSTS) as f64 / ACTIVE_POSTS as f64))
        .fold(0.0, f64::max)
}

/// Community standing over the required skills: the average of [`skill_standing`] per skill.
pub fn standing(per_skill: &[f64]) -> f64 {
    if per_skill.is_empty() { 0.0 } else { per_skill.iter().sum::<f64>() / per_skill.len() as f64 }
}

/// Whether a mode admits a kind of profile: agents for AUTOMATED, people for JUDGMENT, both for ANY.
pub fn eligible(mode: TaskMode, kind: ProfileKind) -> bool {
    matches!(
        (mode, kind),
        (TaskMode::Any, _) | (TaskMode::Automated, ProfileKind::Agent) | (TaskMode::Judgment, ProfileKind::Human)
    )
}

/// Scores a candidate for a task, or `None` when it is not eligible (wrong kind, or none of
/// the required skills).
pub fn score(mode: TaskMode, required: &[String], share_cents: i64, c: &CandidateFacts) -> Option<Score> {
    if !eligible(mode, c.kind) {
        return None;
    }
    let skill_match = if required.is_empty() {
        1.0
    } else {
        let sum: f64 = required
            .iter()
            .map(|r| c.skills.iter().find(|(s, _)| s == r).map_or(0.0, |(_, level)| f64::from(*level) / 5.0))
            .sum();
        sum / required.len() as f64
    };
    if skill_match <= 0.0 {
        return None;
    }
    let reputation = (c.reputation / 5.0).clamp(0.0, 1.0);
    let availability = 1.0 / (1.0 + c.open_tasks as f64);
    let rate_fit = match c.rate_cents {
        None => 0.5,
        Some(rate) if rate <= share_cents => 1.0,
        Some(rate) => (share_cents.max(0) as f64 / rate as f64).clamp(0.0, 1.0),
    };
    let community_standing = c.community.clamp(0.0, 1.0);
    let (ws, wr, wa, wf, wc) = WEIGHTS;
    let total = ws * skill_match + wr * reputation + wa * availability + wf * rate_fit + wc * community_standing;
    Some(Score { total, skill_match, reputation, availability, rate_fit, community_standing })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: ProfileKind, skills: &[(&str, i16)]) -> CandidateFacts {
        CandidateFacts {
            kind,
            skills: skills.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect(),
            reputation: 0.0,
            open_tasks: 0,
            rate_cents: None,
            community: 0.0,
        }
    }

    fn req(skills: &[&str]) -> Vec<String> {
        skills.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn modes_pick_agents_people_or_both() {
        let agent = facts(ProfileKind::Agent, &[("sql", 3)]);
        let person = facts(ProfileKind::Human, &[("sql", 3)]);
        assert!(score(TaskMode::Automated, &req(&["sql"]), 100, &agent).is_some());
        assert!(score(TaskMode::Automated, &req(&["sql"]), 100, &person).is_none());
        assert!(score(TaskMode::Judgment, &req(&["sql"]), 100, &agent).is_none());
        assert!(score(TaskMode::Any, &req(&["sql"]), 100, &agent).is_some());
        assert!(score(TaskMode::Any, &req(&["sql"]), 100, &person).is_some());
    }

    #[test]
    fn higher_levels_and_more_matched_skills_score_higher() {
        let expert = facts(ProfileKind::Human, &[("sql", 5), ("rust", 5)]);
        let novice = facts(ProfileKind::Human, &[("sql", 1), ("rust", 1)]);
        let half = facts(ProfileKind::Human, &[("sql", 5)]);
        let nothing = facts(ProfileKind::Human, &[("design", 5)]);
        let required = req(&["sql", "rust"]);
        let s = |c| score(TaskMode::Judgment, &required, 100, c).map(|s| s.skill_match);
        assert_eq!(s(&expert), Some(1.0));
        assert_eq!(s(&half), Some(0.5));
        assert_eq!(s(&novice), Some(0.2));
        assert_eq!(s(&nothing), None, "no required skill at all: not a candidate");
    }

    #[test]
    fn load_reputation_and_rate_move_the_total() {
        let base = facts(ProfileKind::Human, &[("sql", 4)]);
        let total =
            |c: &CandidateFacts| score(TaskMode::Judgment, &req(&["sql"]), 10_000, c).map(|s| s.total).unwrap_or(0.0);
        let busy = CandidateFacts { open_tasks: 3, ..base.clone() };
        let famous = CandidateFacts { reputation: 5.0, ..base.clone() };
        let cheap = CandidateFacts { rate_cents: Some(5_000), ..base.clone() };
        let pricey = CandidateFacts { rate_cents: Some(40_000), ..base.clone() };
        assert!(total(&busy) < total(&base));
        assert!(total(&famous) > total(&base));
        assert!(total(&cheap) > total(&base), "a known rate within the share beats an unknown one");
        assert!(total(&pricey) < total(&base));
        let parts = score(TaskMode::Judgment, &req(&["sql"]), 10_000, &pricey).map(|s| s.rate_fit);
        assert_eq!(parts, Some(0.25));
        let known = CandidateFacts { community: 0.75, ..base.clone() };
        assert!(total(&known) > total(&base), "standing in the skill's communities counts");
        let parts = score(TaskMode::Judgment, &req(&["sql"]), 10_000, &known).map(|s| s.community_standing);
        assert_eq!(parts, Some(0.75));
    }

    #[test]
    fn standing_grows_with_membership_and_activity_in_the_skills_communities() {
        assert_eq!(skill_standing([]), 0.0);
        assert_eq!(skill_standing([0]), 0.5);
        assert_eq!(skill_standing([5]), 0.75);
        assert_eq!(skill_standing([3, 40]), 1.0, "the best community counts");
        assert_eq!(standing(&[1.0, 0.0]), 0.5);
        assert_eq!(standing(&[]), 0.0);
        let (ws, wr, wa, wf, wc) = WEIGHTS;
        assert!((ws + wr + wa + wf + wc - 1.0).abs() < 1e-12);
    }
}
