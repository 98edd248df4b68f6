//! The platform's own playbooks (global, with fixed ids), written at startup.
use entity::playbook;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use super::Draft;
use crate::error::AppResult;

/// The platform's own playbooks (global), with fixed ids.
fn platform_playbooks() -> Vec<(Uuid, &'static str, &'static str, Vec<Draft>)> {
    let step = |title: &str, mode: &str, skill: &str, weight: i32, days: i32| Draft {
        title: title.into(),
        description: String::new(),
        mode: mode.into(),
        skills: vec![skill.into()],
        weight,
        due_in_days: Some(days),
        criteria: Vec::new(),
        escalate_after: 2,
    };
    vec![
        (
            Uuid::from_u128(0x5e4a_50c1_0000_4000_8000_0000_0000_0001),
            "Data pipeline",
            "Collect and clean data with agents, check it automatically, have a person sign it off.",
            vec![
                step("Collect and clean the data", "AUTOMATED", "data collection", 3, 7),
                step("Validate the results", "AUTOMATED", "testing", 1, 9),
                step("Review and sign off", "JUDGMENT", "review", 1, 12),
            ],
        ),
        (
            Uuid::from_u128(0x5e4a_50c1_0000_4000_8000_0000_0000_0002),
            "Research report",
            "Sources gathered by agents, a draft by anyone, a review by an expert.",
            vec![
                step("Gather sources", "AUTOMATED", "research", 2, 5),
                step("Draft the report", "ANY", "writing", 3, 10),
                step("Expert review", "JUDGMENT", "review", 2, 14),
            ],
        ),
    ]
}

/// Makes sure the platform's playbooks exist (at startup; several instances may race, the
/// fixed ids make the insert idempotent).
pub async fn ensure_platform_playbooks(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    for (id, name, description, steps) in platform_playbooks() {
        let row = playbook::ActiveModel {
            id: Set(id),
            organization_id: Set(None),
            name: Set(name.into()),
            description: Set(description.into()),
            steps: Set(json!(steps)),
            created_by: Set(None),
            created_at: Set(now),
        };
        let inserted = playbook::Entity::insert(row)
            .on_conflict(sea_orm::sea_query::OnConflict::column(playbook::Column::Id).do_nothing().to_owned())
            .exec_without_returning(db)
            .await;
        match inserted {
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::task::plan::validate_drafts;

    #[test]
    fn the_platforms_playbooks_are_valid_drafts() {
        for (_, name, _, steps) in platform_playbooks() {
            assert!(validate_drafts(&steps, &[], chrono::Utc::now(), "steps").is_ok(), "{name}");
        }
    }
}
