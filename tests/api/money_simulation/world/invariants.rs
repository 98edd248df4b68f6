//! The invariants checked after every step.
use super::*;

impl Sim {
    /// Reads the bounded world and checks every per-step invariant; `moved`: whether the step
    /// may have moved money (a refused or money-less step must leave every balance as it was).
    pub(crate) async fn observe(&mut self, moved: bool) -> Result<(), String> {
        let (st, now) = (self.st.clone(), self.now());
        let live: Vec<Uuid> = self.slots.iter().map(|s| s.contract).collect();
        let to_contract = outcome_db::Entity::belongs_to(contract_db::Entity)
            .from(outcome_db::Column::ContractId)
            .to(contract_db::Column::Id)
            .into();
        let outcomes: Vec<(Uuid, Uuid, OutcomeStatus, i64, ContractStatus)> = outcome_db::Entity::find()
            .select_only()
            .columns([outcome_db::Column::Id, outcome_db::Column::ContractId, outcome_db::Column::Status])
            .column(outcome_db::Column::AmountCents)
            .column_as(contract_db::Column::Status, "contract_status")
            .join(JoinType::InnerJoin, to_contract)
            .filter(outcome_db::Column::ContractId.is_in(live.clone()))
            .into_tuple()
            .all(&st.db)
            .await
            .map_err(db)?;
        let disputes =
            all(&st, dispute_db::Entity::find().filter(dispute_db::Column::ContractId.is_in(live.clone()))).await?;
        let mut owners: Vec<Uuid> = live.iter().copied().chain(disputes.iter().map(|d| d.id)).collect();
        owners.extend([self.pid(ADA), self.org, PLATFORM].into_iter().chain(PAYEES.iter().map(|&p| self.pid(p))));
        let accounts = all(&st, account_db::Entity::find().filter(account_db::Column::OwnerId.is_in(owners))).await?;
        let seen = Seen {
            accounts: accounts.iter().filter(|a| a.balance_cents != 0).map(|a| (a.id, a.balance_cents)).collect(),
            owned: accounts.iter().map(|a| ((a.kind, a.owner_id), a.balance_cents)).collect(),
            contracts: outcomes.iter().map(|o| (o.1, o.4)).collect(),
            disputes: disputes.into_iter().map(|d| (d.outcome_id, d)).collect(),
        };
        if !moved && seen.accounts != self.seen.accounts {
            return Err("a refused or money-less request changed balances".into());
        }
        // Over all accounts: each currency sums to zero, and none that may not go negative is.
        let below = Expr::col(account_db::Column::MayGoNegative)
            .eq(false)
            .and(Expr::col(account_db::Column::BalanceCents).lt(0));
        let bigint = |e: Expr| Expr::from(Func::cast_as(Func::sum(e), Alias::new("BIGINT")));
        let sums: Vec<(String, i64, i64)> = account_db::Entity::find()
            .select_only()
            .column(account_db::Column::Currency)
            .column_as(bigint(Expr::col(account_db::Column::BalanceCents)), "total")
            .column_as(bigint(Expr::case(below, 1).finally(0).into()), "negative")
            .group_by(account_db::Column::Currency)
            .into_tuple()
            .all(&st.db)
            .await
            .map_err(db)?;
        if let Some((currency, total, negative)) = sums.iter().find(|(_, t, n)| *t != 0 || *n != 0) {
            return Err(format!("{currency}: accounts sum to {total}, {negative} negative that may not be"));
        }
        let totals = ledger::reading::contract_totals(&st.db, &live).await.map_err(|e| format!("{e:?}"))?;
        let sent_back: Vec<(Uuid, i64)> = entity::provider_refund::Entity::find()
            .select_only()
            .column(entity::provider_refund::Column::ContractId)
            .column(entity::provider_refund::Column::AmountCents)
            .filter(entity::provider_refund::Column::ContractId.is_in(live.clone()))
            .into_tuple()
            .all(&st.db)
            .await
            .map_err(db)?;
        for s in &self.slots {
            let t = totals.get(&s.contract).copied().unwrap_or_default();
            let queued: i64 = sent_back.iter().filter(|(c, _)| *c == s.contract).map(|(_, cents)| cents).sum();
            if queued != t.refunded {
                return Err(format!("{} refunded in the ledger, {queued} sent back to payments: {t:?}", t.refunded));
            }
            if t.funded != t.remaining + t.released + t.refunded + t.held {
                return Err(format!("funded != escrow + released + refunded + held: {t:?}"));
            }
            let ended =
                matches!(seen.contracts.get(&s.contract), Some(ContractStatus::Completed | ContractStatus::Cancelled));
            if ended && t.remaining != 0 {
                return Err(format!("an ended contract's escrow holds {}", t.remaining));
            }
            let accepted = outcomes.iter().filter(|o| o.1 == s.contract && o.2 == OutcomeStatus::Accepted).map(|o| o.3);
            let by_disputes =
                seen.disputes.values().filter(|d| d.contract_id == s.contract).filter_map(|d| d.released_cents);
            let released = accepted.sum::<i64>() + by_disputes.sum::<i64>();
            if t.funded != s.funded || t.released != released {
                return Err(format!("funded {} and released {released} in the model: {t:?}", s.funded));
            }
        }
        if let Some(o) =
            self.accepted.drain(..).find(|o| outcomes.iter().any(|r| r.0 == *o && r.2 != OutcomeStatus::Accepted))
        {
            return Err(format!("outcome {o} was accepted but is not ACCEPTED"));
        }
        for d in seen.disputes.values() {
            let held = seen.owned.get(&(AccountKind::DisputeHold, d.id)).copied().unwrap_or(0);
            if d.status == DisputeStatus::Resolved && held != 0 {
                return Err(format!("resolved dispute {} still holds {held}", d.id));
            }
        }
        // Withdrawals are paid at most once (paid-out balances match the model) and in flight as
        // tracked; earnings on hold match their PENDING payouts.
        let pending = payout_db::Column::Status.eq(PayoutStatus::Pending);
        let open = Condition::any().add(pending).add(payout_db::Column::Id.is_in(self.unsettled.keys().copied()));
        let payouts = all(&st, payout_db::Entity::find().filter(open)).await?;
        payouts.iter().for_each(|p| self.settle(p));
        for (i, &p) in PAYEES.iter().enumerate() {
            let (id, flying) = (self.pid(p), self.unsettled.values().filter(|(w, _)| *w == i).map(|(_, c)| c).sum());
            let held = payouts.iter().filter(|o| o.profile_id == id && o.status == PayoutStatus::Pending);
            let expected = [(AccountKind::PaidOut, self.paid_out[i]), (AccountKind::PayoutInFlight, flying)]
                .into_iter()
                .chain([(AccountKind::PayeePending, held.map(|o| o.amount_cents).sum())]);
            for (kind, cents) in expected {
                let balance = seen.owned.get(&(kind, id)).copied().unwrap_or(0);
                if balance != cents {
                    return Err(format!("{}'s {kind:?} holds {balance}, the model {cents}", NAMES[p]));
                }
            }
        }
        self.keys.retain(|_, k| k.expires > now);
        self.seen = seen;
        Ok(())
    }
}
