//! The simulated world: the provider that can crash a withdrawal, the contracts in play, the
//! model of what should have happened, and each operation applied through the domain.
use super::*;

mod invariants;
mod provider;

use self::provider::{CrashingProvider, Owed};

struct Slot {
    contract: Uuid,
    payer: Uuid,
    org: bool,
    outcomes: [Uuid; 2],
    /// What fundings that applied (not replays) moved into escrow.
    funded: i64,
}

/// A key the model saw applied: its request and, for a funding, the transaction it made.
#[derive(Clone)]
struct Applied {
    body: String,
    txn: Option<Uuid>,
    expires: DateTime<Utc>,
}

/// What the last observation found.
#[derive(Default)]
struct Seen {
    /// Non-zero balances by account.
    accounts: HashMap<Uuid, i64>,
    owned: HashMap<(AccountKind, Uuid), i64>,
    contracts: HashMap<Uuid, ContractStatus>,
    disputes: HashMap<Uuid, dispute_db::Model>,
}

pub(crate) struct Sim {
    pub(crate) app: TestApp,
    pub(crate) st: AppState,
    crash: Arc<CrashingProvider>,
    people: Vec<Viewer>,
    org: Uuid,
    slots: Vec<Slot>,
    created: usize,
    keys: HashMap<(Uuid, String), Applied>,
    dan: Option<OrgRole>,
    unsettled: HashMap<Uuid, (usize, i64)>,
    paid_out: [i64; 3],
    accepted: Vec<Uuid>,
    seen: Seen,
    /// Webhooks the provider owes about pending charges, and the event ids delivered.
    owed: Vec<Owed>,
    delivered: std::collections::HashSet<String>,
    /// Pending charges: their contract and amount.
    pending_fundings: HashMap<String, (Uuid, i64)>,
    pub(crate) faults: provider::Faults,
}

/// A domain call's result, unless it failed internally (always a violation).
fn checked<T>(result: AppResult<T>) -> Result<AppResult<T>, String> {
    match result {
        Err(AppError::Internal(cause)) => Err(format!("internal error: {cause:?}")),
        other => Ok(other),
    }
}

fn db(e: sea_orm::DbErr) -> String {
    e.to_string()
}

async fn all<E: EntityTrait>(st: &AppState, query: Select<E>) -> Result<Vec<E::Model>, String> {
    query.all(&st.db).await.map_err(db)
}

impl Sim {
    pub(crate) async fn new() -> Self {
        let app = spawn_app_with(|c| {
            c.payments.payout_hold = std::time::Duration::from_secs(2 * 3600);
            c.payments.simulated.decline_charges_from_cents = Some(9_500);
            c.payments.simulated.fail_payouts_from_cents = Some(4_000);
            c.payments.stripe.webhook_secret = Some(semasocial::config::Secret::new(provider::WEBHOOK_SECRET));
        })
        .await;
        if app.state.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // Durability is not under test; an fsync per commit would dominate the run.
            app.state.db.execute_unprepared("PRAGMA synchronous=OFF").await.unwrap();
        }
        let design = |level: i32| json!([{ "skill": "design", "level": level }]);
        let users = [
            app.register("ada").await,
            app.register("dan").await,
            worker(&app, "bob", design(5)).await,
            worker(&app, "cat", design(3)).await,
            app.register("oper").await,
            app.register("judge").await,
        ];
        let skills = json!([{ "skill": "data", "level": 4 }]);
        let (bot, _) = agent(&app, &users[OPER], "data_bot", skills, json!(["TASKS_READ", "TASKS_WRITE"])).await;
        let org = create_org(&app, &users[ADA], "acme").await;
        let joined = add_member(&app, &users[ADA], &org, "dan", "ADMIN").await;
        assert_eq!(joined["data"]["acceptOrganizationInvitation"]["role"], "ADMIN", "{joined}");
        let mut people = Vec::new();
        for user in &users {
            let profile_id: Uuid = user.profile_id.parse().unwrap();
            let row = entity::profile::Entity::find_by_id(profile_id).one(&app.state.db).await.unwrap().unwrap();
            people.push(Viewer::User { user_id: row.user_id.unwrap(), profile_id, session_id: None, key: None });
        }
        let (operator_user_id, scopes) = (people[OPER].user_id().unwrap(), AgentScope::ALL.to_vec());
        people.push(Viewer::Agent { agent_id: bot.parse().unwrap(), operator_user_id, token_id: Uuid::nil(), scopes });
        for arbiter in ["judge", "cat"] {
            ledger::arbiter::grant(&app.state.db, arbiter, app.clock_now()).await.unwrap();
        }
        let inner = SimulatedProvider::with_clock(app.state.config.payments.simulated, app.state.clock.clone());
        let crash = Arc::new(CrashingProvider::new(inner));
        let mut st = app.state.clone();
        st.provider = crash.clone();
        let mut sim = Self {
            app,
            st,
            crash,
            people,
            org: org.parse().unwrap(),
            slots: Vec::new(),
            created: 0,
            keys: HashMap::new(),
            dan: Some(OrgRole::Admin),
            unsettled: HashMap::new(),
            paid_out: [0; 3],
            accepted: Vec::new(),
            seen: Seen::default(),
            owed: Vec::new(),
            delivered: std::collections::HashSet::new(),
            pending_fundings: HashMap::new(),
            faults: provider::Faults::default(),
        };
        for _ in 0..SLOTS {
            let slot = sim.new_contract().await.unwrap();
            sim.slots.push(slot);
        }
        sim
    }

    fn now(&self) -> DateTime<Utc> {
        self.st.clock.now()
    }

    fn pid(&self, actor: usize) -> Uuid {
        self.people[actor].profile_id().unwrap()
    }

    /// A new contract, every other one for the organization.
    async fn new_contract(&mut self) -> Result<Slot, String> {
        self.created += 1;
        let org = self.created.is_multiple_of(2).then_some(self.org);
        let (st, ada, due) = (&self.st, &self.people[ADA], self.now() + Duration::days(2));
        let fail = |e: AppError| format!("setting up a contract: {e:?}");
        let input = ContractInput {
            organization_id: org,
            title: "Sim".into(),
            description: String::new(),
            currency: "EUR".into(),
            budget_cents: BUDGET,
        };
        let (c, _) = contract::create(st, ada, input).await.map_err(fail)?;
        let mut outcomes = [Uuid::nil(); 2];
        let tasks: [&[(&str, TaskMode, i32)]; 2] = [
            &[("design", TaskMode::Judgment, 2), ("data", TaskMode::Automated, 1)],
            &[("design", TaskMode::Judgment, 1)],
        ];
        let mut n = 0;
        for i in 0..2 {
            let criteria = serde_json::from_value(json!([{ "key": "c1", "description": "Done" }])).unwrap();
            let input = OutcomeInput { title: "Result".into(), criteria, amount_cents: OUTCOMES[i], due_at: Some(due) };
            outcomes[i] = outcome::add(st, ada, c.id, input).await.map_err(fail)?.0.id;
            for &(skill, mode, weight) in tasks[i] {
                let (title, skills, criteria) = (format!("t{n}"), vec![skill.into()], vec!["c1".into()]);
                let input = TaskInput {
                    title,
                    description: String::new(),
                    skills,
                    mode,
                    weight,
                    due_at: None,
                    criteria,
                    escalate_after: 0,
                };
                task::add(st, ada, outcomes[i], input).await.map_err(fail)?;
                n += 1;
            }
        }
        Ok(Slot { contract: c.id, payer: org.unwrap_or(self.pid(ADA)), org: org.is_some(), outcomes, funded: 0 })
    }

    /// Whether `by` manages the slot's contract money now (by its current role).
    fn manages(&self, by: usize, slot: usize) -> bool {
        by == ADA || (by == DAN && self.slots[slot].org && self.dan == Some(OrgRole::Admin))
    }

    /// Checks a keyed request against the keys the model saw applied (per paying account): a
    /// success by someone who does not manage the money, a second application, a refused
    /// replay, or a reuse with another request that is not a CONFLICT are violations. Returns
    /// the first application of a replayed key, or `None` when this one applied anew.
    fn keyed<T>(
        &mut self,
        scope: Uuid,
        key: &str,
        body: String,
        manages: bool,
        r: &AppResult<T>,
    ) -> Result<Option<Applied>, String> {
        let now = self.now();
        let first = self.keys.get(&(scope, key.to_owned())).filter(|k| k.expires > now).cloned();
        match (r, first) {
            (Ok(_), _) if !manages => Err("moved money without managing the contract (its current role)".into()),
            (Ok(_), Some(first)) if first.body != body => {
                Err(format!("key {key} applied to {body} after {}", first.body))
            }
            (Ok(_), Some(first)) => Ok(Some(first)),
            (Ok(_), None) => {
                let expires = now + Duration::from_std(self.st.config.payments.idempotency_ttl).unwrap();
                self.keys.insert((scope, key.to_owned()), Applied { body, txn: None, expires });
                Ok(None)
            }
            (Err(_), _) if !manages => Ok(None),
            (Err(e), Some(first)) if first.body == body => Err(format!("a replay was refused: {e}")),
            (Err(AppError::Conflict(_)), _) | (Err(_), None) => Ok(None),
            (Err(e), Some(_)) => Err(format!("a key reused with another request was not a CONFLICT: {e}")),
        }
    }

    /// Runs one operation; whether it may have moved money.
    pub(crate) async fn apply(&mut self, op: Op) -> Result<bool, String> {
        let st = self.st.clone();
        let client = |by: usize| matches!(by, ADA | DAN);
        Ok(match op {
            Op::Fund { slot, by, cents, key, fault } => {
                let (c, payer, manages) = (self.slots[slot].contract, self.slots[slot].payer, self.manages(by, slot));
                let key = format!("fund-{key}");
                let input = || FundInput {
                    contract_id: c,
                    amount_cents: cents,
                    idempotency_key: key.clone(),
                    payment_method_id: None,
                };
                let r = self.fund_with_fault(by, input, cents, c, fault).await?;
                let first = self.keyed(payer, &key, format!("{c}:{cents}"), manages, &r)?;
                if let Ok(f) = &r {
                    // A pending funding's transaction comes with its webhook, after the first answer.
                    let other_txn = first.as_ref().is_some_and(|k| k.txn.is_some() && k.txn != f.transaction_id);
                    if f.replayed != first.is_some() || other_txn {
                        return Err(format!("funding with key {key}: replayed {} against the model", f.replayed));
                    }
                    if !f.replayed && f.status == FundingStatus::Succeeded {
                        self.slots[slot].funded += cents;
                        self.keys.get_mut(&(payer, key)).unwrap().txn = f.transaction_id;
                    }
                }
                r.is_ok()
            }
            Op::Status { slot, by, action, key } => {
                let (c, payer, manages) = (self.slots[slot].contract, self.slots[slot].payer, self.manages(by, slot));
                let key = key.map(|k| format!("status-{k}"));
                let r =
                    checked(lifecycle::change_contract_status(&st, &self.people[by], c, action, key.as_deref()).await)?;
                let replay = match &key {
                    Some(key) => self.keyed(payer, key, format!("{c}:{action:?}"), manages, &r)?.is_some(),
                    None if r.is_ok() && !manages => return Err("changed a contract without managing it".into()),
                    None => false,
                };
                let disputed =
                    self.seen.disputes.values().any(|d| d.contract_id == c && d.status == DisputeStatus::Open);
                if r.is_ok() && !replay && action == ContractAction::Cancel && disputed {
                    return Err("cancelled a contract with an open dispute".into());
                }
                r.is_ok()
            }
            Op::Work { slot, task, reject } => {
                self.work(slot, task, reject).await?;
                false
            }
            Op::Accept { slot, outcome, by, key } => {
                let (o, payer) = (self.slots[slot].outcomes[outcome], self.slots[slot].payer);
                let key = format!("accept-{key}");
                let r = checked(outcome::acceptance::accept(&st, &self.people[by], o, &key).await)?;
                self.keyed(payer, &key, o.to_string(), self.manages(by, slot), &r)?;
                self.accepted.extend(r.as_ref().ok().map(|_| o));
                r.is_ok()
            }
            Op::Reject { slot, outcome, by } => {
                let o = self.slots[slot].outcomes[outcome];
                let r = checked(review::reject_outcome(&st, &self.people[by], o, "again").await)?;
                if r.is_ok() && !self.manages(by, slot) {
                    return Err("rejected an outcome without managing the contract".into());
                }
                false
            }
            Op::Dispute { slot, outcome, by, key } => {
                let o = self.slots[slot].outcomes[outcome];
                let r = checked(dispute::open(&st, &self.people[by], o, "late", &format!("dispute-{key}")).await)?;
                if r.is_ok() && client(by) && !self.manages(by, slot) {
                    return Err("disputed for the client without managing the contract".into());
                }
                r.is_ok()
            }
            Op::Resolve { slot, outcome, by, how, part, key } => {
                let Some(d) = self.seen.disputes.get(&self.slots[slot].outcomes[outcome]).map(|d| d.id) else {
                    return Ok(false);
                };
                let resolution = [Resolution::Release, Resolution::Refund, Resolution::Split][how];
                let release_cents = (resolution == Resolution::Split).then_some(part);
                let input = dispute::Resolve {
                    dispute_id: d,
                    resolution,
                    release_cents,
                    idempotency_key: format!("resolve-{key}"),
                };
                let r = checked(dispute::resolve(&st, &self.people[by], input).await)?;
                if r.is_ok() && client(by) && !self.manages(by, slot) {
                    return Err("resolved for the client without managing the contract".into());
                }
                if r.is_ok() && client(by) && resolution != Resolution::Release && key >= 100 {
                    return Err(format!("the client decided {resolution:?}, beyond its concession"));
                }
                r.is_ok()
            }
            Op::Withdraw { who, cents, within, key, crash } => self.withdraw(who, cents, within, key, crash).await?,
            Op::Deliver { pick, again } => self.deliver(pick, again).await?,
            Op::Role { change } => {
                let (org, dan, ada) = (self.org, self.pid(DAN), &self.people[ADA]);
                let role = match change {
                    0 => checked(organization::change_role(&st, ada, org, dan, OrgRole::Member).await)?
                        .map(|m| Some(m.role)),
                    1 => checked(organization::change_role(&st, ada, org, dan, OrgRole::Admin).await)?
                        .map(|m| Some(m.role)),
                    2 => checked(organization::remove_member(&st, ada, org, dan).await)?.map(|()| None),
                    _ => match checked(organization::invite(&st, ada, org, "dan", OrgRole::Admin).await)? {
                        Ok(i) => checked(organization::answer(&st, &self.people[DAN], i.id, Answer::Accept).await)?
                            .map(|(_, m)| m.map(|m| m.role)),
                        Err(e) => Err(e),
                    },
                };
                if let Ok(role) = role {
                    self.dan = role;
                }
                false
            }
            Op::Pass { minutes } => {
                self.app.clock.advance(Duration::minutes(minutes));
                sweep::run_once(&st).await.map_err(|e| format!("the sweep failed: {e:?}"))?;
                let bound = Duration::from_std(st.config.payments.payout_stuck_after).unwrap();
                let stuck = payout_db::Entity::find()
                    .filter(payout_db::Column::Status.eq(PayoutStatus::Processing))
                    .filter(payout_db::Column::Kind.eq(PayoutKind::Withdrawal))
                    .filter(payout_db::Column::UpdatedAt.lte(self.now() - bound))
                    .one(&st.db)
                    .await
                    .map_err(db)?;
                if let Some(p) = stuck {
                    return Err(format!("withdrawal {} is PROCESSING past the bound after a sweep", p.id));
                }
                true
            }
        })
    }

    /// The next step of one task of a slot, by whoever's turn it is.
    async fn work(&self, slot: usize, task: usize, reject: bool) -> Result<(), String> {
        let of_contract = task_db::Column::ContractId.eq(self.slots[slot].contract);
        let tasks =
            all(&self.st, task_db::Entity::find().filter(of_contract).order_by_asc(task_db::Column::Title)).await?;
        let Some(t) = tasks.get(task) else { return Ok(()) };
        let holder = self.people.iter().find(|v| v.profile_id().is_some() && v.profile_id() == t.assignee_profile_id);
        let (st, ada) = (&self.st, &self.people[ADA]);
        let result = match (t.status, holder) {
            (TaskStatus::Offered, Some(h)) => work::accept_offer(st, h, t.id).await.map(drop),
            (TaskStatus::Assigned | TaskStatus::Rejected, Some(h)) => {
                let digest = |c: &str| format!("sha256:{}", c.repeat(64));
                let provenance = json!({ "model": "m", "tool": "t", "toolVersion": "1", "runId": "r", "costCents": 1,
                    "inputDigest": digest("a"), "outputDigest": digest("b") });
                let deliverable = review::Deliverable {
                    text: Some("done".into()),
                    url: None,
                    metrics: Vec::new(),
                    provenance: matches!(h, Viewer::Agent { .. }).then(|| serde_json::from_value(provenance).unwrap()),
                    plan: None,
                };
                review::submit(st, h, t.id, deliverable).await.map(drop)
            }
            (TaskStatus::Submitted, _) if reject => review::reject(st, ada, t.id, "again").await.map(drop),
            (TaskStatus::Submitted, _) => review::accept(st, ada, t.id).await.map(drop),
            (TaskStatus::Open, _) => {
                let claimer = if t.mode == TaskMode::Automated {
                    BOT
                } else if reject {
                    CAT
                } else {
                    BOB
                };
                work::claim(st, &self.people[claimer], t.id).await.map(drop)
            }
            _ => Ok(()),
        };
        checked(result).map(drop)
    }

    /// A withdrawal, possibly crashing between its two transactions.
    async fn withdraw(&mut self, who: usize, cents: i64, within: bool, key: usize, crash: u8) -> Result<bool, String> {
        let (payee, st) = (self.pid(PAYEES[who]), self.st.clone());
        let available = self.seen.owned.get(&(AccountKind::PayeeAvailable, payee)).copied().unwrap_or(0);
        let cents = if within && available > 0 { 1 + cents % available } else { cents };
        let key = format!("withdraw-{key}");
        let input = PayoutInput { amount_cents: cents, currency: "EUR".into(), idempotency_key: key.clone() };
        self.crash.mode.store(crash, Ordering::SeqCst);
        let request = payout::request(&st, &self.people[PAYEES[who]], input);
        let reached = self.crash.reached.notified();
        let r = tokio::select! {
            biased;
            r = request => Some(r),
            () = reached => None,
        };
        self.crash.mode.store(0, Ordering::SeqCst);
        let Some(r) = r else {
            // Crashed: the first transaction committed; the payout waits for its recovery.
            if cents > available {
                return Err(format!("withdrew {cents} of an available {available}"));
            }
            let row = idempotency_key::Entity::find_by_id((payee, key)).one(&st.db).await.map_err(db)?;
            let id = row.and_then(|k| k.response).and_then(|r| r["payoutId"].as_str().and_then(|s| s.parse().ok()));
            self.unsettled.insert(id.ok_or("a crashed withdrawal saved no result")?, (who, cents));
            return Ok(true);
        };
        let Ok(p) = checked(r)? else { return Ok(false) };
        if p.created_at == self.now() {
            // A new withdrawal (a replay returns its key's first, older one).
            if cents > available {
                return Err(format!("withdrew {cents} of an available {available}"));
            }
            self.unsettled.insert(p.id, (who, p.amount_cents));
        }
        self.settle(&p);
        Ok(true)
    }

    /// Books a payout's settlement in the model, once.
    fn settle(&mut self, p: &payout_db::Model) {
        if matches!(p.status, PayoutStatus::Paid | PayoutStatus::Failed)
            && let Some((who, cents)) = self.unsettled.remove(&p.id)
            && p.status == PayoutStatus::Paid
        {
            self.paid_out[who] += cents;
        }
    }

    /// Replaces ended contracts that hold no open dispute.
    pub(crate) async fn recycle(&mut self) -> Result<(), String> {
        for i in 0..SLOTS {
            let c = self.slots[i].contract;
            let ended =
                matches!(self.seen.contracts.get(&c), Some(ContractStatus::Completed | ContractStatus::Cancelled));
            if ended && !self.seen.disputes.values().any(|d| d.contract_id == c && d.status == DisputeStatus::Open) {
                self.slots[i] = self.new_contract().await?;
            }
        }
        Ok(())
    }
}
