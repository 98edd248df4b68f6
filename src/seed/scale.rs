//! `seed-demo --scale N`: a deterministic data set for benchmarks. At N = 1: 10,000 people with
//! skills, 200 agents, 500 organizations, 100,000 gigs, 1,000 communities with 150,000 posts
//! and 50,000 comments, 20,000 events with RSVPs, and 2,000 contracts with their work and money
//! (`contracts.rs`, made through the domain, so their history is real). The rows of this file
//! follow from each row's number, so two runs at one scale produce the same rows; they go in
//! with multi-row inserts (no activity records: this is data to read, not history).
use chrono::{DateTime, Duration, Utc};
use entity::{
    comment, community,
    community::CommunityVisibility,
    community_member::{self, CommunityRole},
    event::{self, EventStatus},
    event_rsvp::{self, RsvpStatus},
    gig::{self, GigStatus, GigVisibility},
    gig_skill, organization,
    organization_member::{self, OrgRole},
    post,
    profile::{self, Availability, ProfileKind},
    profile_skill, user,
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

/// Rows per insert statement (the widest row has 16 columns: well within both backends'
/// parameter limits).
const CHUNK: usize = 1_000;

/// Skills people, agents and gigs draw from.
pub const SKILLS: [&str; 24] = [
    "rust",
    "sql",
    "python",
    "design",
    "writing",
    "data analysis",
    "devops",
    "react",
    "go",
    "typescript",
    "marketing",
    "translation",
    "research",
    "video",
    "security",
    "testing",
    "ml",
    "statistics",
    "finance",
    "legal",
    "support",
    "mobile",
    "kotlin",
    "swift",
];

const VERBS: [&str; 8] = ["Build", "Audit", "Design", "Migrate", "Document", "Test", "Analyse", "Ship"];
const THINGS: [&str; 8] = ["pipeline", "dashboard", "API", "landing page", "report", "app", "integration", "model"];

/// How many rows of each kind a scale makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// People (accounts with a profile).
    pub people: usize,
    /// Agents, operated by people.
    pub agents: usize,
    /// Organizations, each with an owner, an admin and a member.
    pub organizations: usize,
    /// Gigs.
    pub gigs: usize,
    /// Communities, each with up to 20 members.
    pub communities: usize,
    /// Posts.
    pub posts: usize,
    /// Comments.
    pub comments: usize,
    /// Events, each with 5 people going.
    pub events: usize,
    /// Outcome contracts of the organizations, with their work and money (`contracts.rs`).
    pub contracts: usize,
}

impl Counts {
    /// The counts at `scale` (1.0 is the full set); at least one of each.
    pub fn at(scale: f64) -> Self {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = |full: f64| ((full * scale).round() as usize).max(1);
        Self {
            people: n(10_000.0).max(20),
            agents: n(200.0),
            organizations: n(500.0),
            gigs: n(100_000.0),
            communities: n(1_000.0),
            posts: n(150_000.0),
            comments: n(50_000.0),
            events: n(20_000.0),
            contracts: n(2_000.0),
        }
    }
}

/// A well-mixed number from a row's kind and number (splitmix64).
fn mix(kind: u64, i: usize) -> u64 {
    let mut z = ((kind << 40) ^ i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The id of row `i` of a kind: the same in every run.
fn id(kind: u64, i: usize) -> Uuid {
    Uuid::from_u64_pair(0x5eed_0000_0000_0000 | kind, i as u64)
}

fn pick<T: Copy>(items: &[T], kind: u64, i: usize) -> T {
    items[usize::try_from(mix(kind, i) % items.len() as u64).unwrap_or(0)]
}

/// Some time in the `days` before `now`, the same for the same row.
fn before(now: DateTime<Utc>, kind: u64, i: usize, days: i64) -> DateTime<Utc> {
    let seconds = days.saturating_mul(86_400);
    now - Duration::seconds(i64::try_from(mix(kind, i) % seconds.max(1) as u64).unwrap_or(0))
}

async fn insert<A>(db: &DatabaseConnection, rows: Vec<A>) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        <A::Entity as EntityTrait>::insert_many(rows.by_ref().take(CHUNK)).exec(db).await?;
    }
    Ok(())
}

const PERSON: u64 = 1;
const AGENT: u64 = 2;
const ORGANIZATION: u64 = 3;
const GIG: u64 = 4;
const COMMUNITY: u64 = 5;
const POST: u64 = 6;
const COMMENT: u64 = 7;
const EVENT: u64 = 8;
const RSVP: u64 = 9;
const USER: u64 = 10;

/// The first `n` skills of row `i` of a kind.
fn skills_of(kind: u64, i: usize, n: usize) -> Vec<&'static str> {
    let first = usize::try_from(mix(kind + 200, i) % SKILLS.len() as u64).unwrap_or(0);
    (0..n).map(|k| SKILLS[(first + k * 5) % SKILLS.len()]).collect()
}

/// A skill that agent `i` (of the agents there are) has.
pub fn agent_skill(counts: Counts, i: usize) -> &'static str {
    skills_of(AGENT, i % counts.agents, 1)[0]
}

/// A skill of a person outside organization `o`: its members are the owner and the next two.
pub fn outsider_skill(counts: Counts, o: usize, i: usize) -> &'static str {
    let k = (org_owner_index(counts.people, o) + 3 + i % 7) % counts.people;
    skills_of(PERSON, k, 1)[0]
}

/// The id of organization `o`.
pub fn organization_id(o: usize) -> Uuid {
    id(ORGANIZATION, o)
}

/// The person who operates agent `i`: never a member of an organization (members are the
/// people numbered 0, 1 and 2 modulo 5), so agents can work every organization's contracts.
fn agent_operator_index(people: usize, i: usize) -> usize {
    (i * 5 + 3) % people
}

/// The person who owns organization `o`.
fn org_owner_index(people: usize, o: usize) -> usize {
    (o * 5) % people
}

/// The owner of organization `o`, signed in.
pub fn org_owner(counts: Counts, o: usize) -> crate::auth::Viewer {
    let k = org_owner_index(counts.people, o);
    crate::auth::Viewer::User { user_id: id(USER, k), profile_id: id(PERSON, k), session_id: None, key: None }
}

/// Whether this database already holds the scale data.
pub async fn present(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(profile::Entity::find_by_id(id(PERSON, 0)).one(db).await?.is_some())
}

/// Inserts the data set at `counts`; `password_hash` is every account's (the demo password).
pub async fn seed(
    db: &DatabaseConnection,
    counts: Counts,
    password_hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let people = counts.people;
    let person = |i: usize| id(PERSON, i % people);

    insert(
        db,
        (0..people)
            .map(|i| user::ActiveModel {
                id: Set(id(USER, i)),
                email: Set(format!("person{i}@scale.semasocial.dev")),
                password_hash: Set(password_hash.to_owned()),
                email_verified_at: Set(Some(now)),
                created_at: Set(before(now, USER, i, 730)),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    let profile_row = |kind: u64, i: usize, handle: String, user_id: Option<Uuid>, operator: Option<Uuid>| {
        let rate = 2_000 + i64::try_from(mix(kind, i) % 18_000).unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let reputation = (mix(kind + 100, i) % 500) as f64 / 100.0;
        profile::ActiveModel {
            id: Set(id(kind, i)),
            user_id: Set(user_id),
            operator_user_id: Set(operator),
            display_name: Set(format!("{} {i}", if kind == AGENT { "Agent" } else { "Person" })),
            handle: Set(handle),
            headline: Set(Some(format!("{} specialist", pick(&SKILLS, kind, i)))),
            bio: Set(None),
            location: Set(None),
            timezone: Set(Some("UTC".to_owned())),
            rate_cents: Set(Some(rate)),
            rate_currency: Set(Some("EUR".to_owned())),
            availability: Set(pick(&[Availability::Available, Availability::Limited], kind, i)),
            kind: Set(if kind == AGENT { ProfileKind::Agent } else { ProfileKind::Human }),
            reputation: Set(reputation),
            created_at: Set(before(now, kind, i, 730)),
            updated_at: Set(now),
        }
    };
    insert(db, (0..people).map(|i| profile_row(PERSON, i, format!("person{i}"), Some(id(USER, i)), None)).collect())
        .await?;
    insert(
        db,
        (0..counts.agents)
            .map(|i| profile_row(AGENT, i, format!("agent{i}"), None, Some(id(USER, agent_operator_index(people, i)))))
            .collect(),
    )
    .await?;
    let mut skills = Vec::new();
    for (kind, n) in [(PERSON, people), (AGENT, counts.agents)] {
        for i in 0..n {
            for (k, skill) in skills_of(kind, i, 3).into_iter().enumerate() {
                skills.push(profile_skill::ActiveModel {
                    profile_id: Set(id(kind, i)),
                    skill: Set(skill.to_owned()),
                    level: Set(i16::try_from(1 + (mix(kind + 300, i * 3 + k) % 5)).unwrap_or(3)),
                });
            }
        }
    }
    insert(db, skills).await?;

    insert(
        db,
        (0..counts.organizations)
            .map(|i| organization::ActiveModel {
                id: Set(id(ORGANIZATION, i)),
                slug: Set(format!("org-{i}")),
                name: Set(format!("Organization {i}")),
                description: Set(Some("Buys outcomes, not hours.".to_owned())),
                created_at: Set(before(now, ORGANIZATION, i, 730)),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    let org_owner = |o: usize| org_owner_index(people, o);
    insert(
        db,
        (0..counts.organizations)
            .flat_map(|o| {
                [OrgRole::Owner, OrgRole::Admin, OrgRole::Member].into_iter().enumerate().map(move |(k, role)| {
                    organization_member::ActiveModel {
                        organization_id: Set(id(ORGANIZATION, o)),
                        profile_id: Set(person(org_owner(o) + k)),
                        role: Set(role),
                        created_at: Set(now),
                    }
                })
            })
            .collect(),
    )
    .await?;

    let communities = counts.communities;
    let members_per_community = people.min(20);
    let community_member_of = |c: usize, k: usize| person(c * 7 + k % members_per_community);
    insert(
        db,
        (0..communities)
            .map(|c| community::ActiveModel {
                id: Set(id(COMMUNITY, c)),
                slug: Set(format!("community-{c}")),
                name: Set(format!("{} community {c}", pick(&SKILLS, COMMUNITY, c))),
                description: Set(Some(format!("People who do {}", pick(&SKILLS, COMMUNITY, c)))),
                visibility: Set(if c % 5 == 4 { CommunityVisibility::Private } else { CommunityVisibility::Public }),
                created_by: Set(community_member_of(c, 0)),
                created_at: Set(before(now, COMMUNITY, c, 730)),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    insert(
        db,
        (0..communities)
            .flat_map(|c| {
                (0..members_per_community).map(move |k| community_member::ActiveModel {
                    community_id: Set(id(COMMUNITY, c)),
                    profile_id: Set(community_member_of(c, k)),
                    role: Set(match k {
                        0 => CommunityRole::Owner,
                        1 => CommunityRole::Moderator,
                        _ => CommunityRole::Member,
                    }),
                    created_at: Set(now),
                })
            })
            .collect(),
    )
    .await?;

    let mut gig_skills = Vec::with_capacity(counts.gigs * 2);
    let gigs: Vec<gig::ActiveModel> = (0..counts.gigs)
        .map(|g| {
            let roll = mix(GIG + 400, g) % 100;
            let organization = (roll < 30).then(|| g % counts.organizations);
            let community = (roll >= 95).then(|| g % communities);
            let owner = match (organization, community) {
                (Some(o), _) => person(org_owner(o)),
                (None, Some(c)) => community_member_of(c, g),
                (None, None) => person(g * 3),
            };
            let wanted = skills_of(GIG, g, 2);
            for skill in &wanted {
                gig_skills.push(gig_skill::ActiveModel { gig_id: Set(id(GIG, g)), skill: Set((*skill).to_owned()) });
            }
            let currency = match mix(GIG + 500, g) % 20 {
                0 => "JPY",
                1..=3 => "USD",
                _ => "EUR",
            };
            gig::ActiveModel {
                id: Set(id(GIG, g)),
                owner_profile_id: Set(owner),
                organization_id: Set(organization.map(|o| id(ORGANIZATION, o))),
                community_id: Set(community.map(|c| id(COMMUNITY, c))),
                title: Set(format!("{} a {} {}", pick(&VERBS, GIG, g), wanted[0], pick(&THINGS, GIG + 1, g))),
                description: Set(format!(
                    "We need help with {} and {}: a {} that works, tested and documented.",
                    wanted[0],
                    wanted[1],
                    pick(&THINGS, GIG + 2, g)
                )),
                budget_cents: Set(10_000 + i64::try_from(mix(GIG + 600, g) % 990_000).unwrap_or(0)),
                currency: Set(currency.to_owned()),
                deadline: Set(None),
                remote: Set(g % 4 != 0),
                location: Set((g % 4 == 0).then(|| "Berlin".to_owned())),
                visibility: Set(if community.is_some() { GigVisibility::Community } else { GigVisibility::Public }),
                status: Set(match roll % 20 {
                    0 => GigStatus::Draft,
                    1 => GigStatus::Closed,
                    _ => GigStatus::Open,
                }),
                accepted_proposal_id: Set(None),
                created_at: Set(before(now, GIG, g, 365)),
                updated_at: Set(now),
            }
        })
        .collect();
    insert(db, gigs).await?;
    insert(db, gig_skills).await?;

    insert(
        db,
        (0..counts.posts)
            .map(|p| {
                let c = p % communities;
                let at = before(now, POST, p, 365);
                post::ActiveModel {
                    id: Set(id(POST, p)),
                    community_id: Set(id(COMMUNITY, c)),
                    author_profile_id: Set(community_member_of(c, p)),
                    title: Set(format!("On {} #{p}", pick(&SKILLS, POST, p))),
                    body: Set("What worked for us, and what did not.".to_owned()),
                    pinned: Set(p < communities && p % 10 == 0),
                    removed_at: Set(None),
                    removed_reason: Set(None),
                    removed_by: Set(None),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
            })
            .collect(),
    )
    .await?;
    insert(
        db,
        (0..counts.comments)
            .map(|k| {
                let p = usize::try_from(mix(COMMENT, k) % counts.posts as u64).unwrap_or(0);
                let at = before(now, COMMENT, k, 30);
                comment::ActiveModel {
                    id: Set(id(COMMENT, k)),
                    post_id: Set(id(POST, p)),
                    parent_id: Set(None),
                    author_profile_id: Set(community_member_of(p % communities, k)),
                    body: Set("Thanks, this helped.".to_owned()),
                    removed_at: Set(None),
                    removed_reason: Set(None),
                    removed_by: Set(None),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
            })
            .collect(),
    )
    .await?;

    let going = people.min(5);
    let mut rsvps = Vec::with_capacity(counts.events * going);
    let events: Vec<event::ActiveModel> = (0..counts.events)
        .map(|e| {
            let community = (e % 2 == 0).then(|| e % communities);
            let starts_at = now + Duration::hours(i64::try_from(mix(EVENT, e) % (70 * 24)).unwrap_or(0) - 10 * 24);
            for k in 0..going {
                rsvps.push(event_rsvp::ActiveModel {
                    id: Set(id(RSVP, e * going + k)),
                    event_id: Set(id(EVENT, e)),
                    profile_id: Set(person(e * 11 + k)),
                    status: Set(RsvpStatus::Going),
                    waitlist_seq: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
            event::ActiveModel {
                id: Set(id(EVENT, e)),
                community_id: Set(community.map(|c| id(COMMUNITY, c))),
                host_profile_id: Set(community.map_or_else(|| person(e * 13), |c| community_member_of(c, 0))),
                title: Set(format!("{} meetup #{e}", pick(&SKILLS, EVENT, e))),
                description: Set(Some("Talks, questions, pizza.".to_owned())),
                starts_at: Set(starts_at),
                ends_at: Set(starts_at + Duration::hours(2)),
                timezone: Set("Europe/Berlin".to_owned()),
                venue: Set(Some(format!("Room {}", e % 50))),
                online_url: Set(None),
                capacity: Set(10 + i32::try_from(mix(EVENT + 1, e) % 90).unwrap_or(0)),
                going_count: Set(i32::try_from(going).unwrap_or(0)),
                waitlist_seq: Set(0),
                status: Set(EventStatus::Scheduled),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    insert(db, events).await?;
    insert(db, rsvps).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Counts, id, mix};

    #[test]
    fn the_full_scale_has_the_promised_sizes_and_rows_keep_their_ids() {
        let full = Counts::at(1.0);
        assert_eq!((full.people, full.agents, full.organizations, full.gigs), (10_000, 200, 500, 100_000));
        assert_eq!((full.communities, full.posts, full.comments, full.events), (1_000, 150_000, 50_000, 20_000));
        let tiny = Counts::at(0.0001);
        assert_eq!((tiny.people, tiny.agents, tiny.gigs), (20, 1, 10));
        assert_eq!(id(4, 7), id(4, 7));
        assert_ne!(id(4, 7), id(5, 7));
        assert_ne!(mix(4, 1), mix(4, 2));
    }
}
