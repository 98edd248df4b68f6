//! The double-entry ledger and what hangs off it: accounts, transactions and their lines,
//! payouts, disputes and idempotency keys.
//!
//! The two rules that matter most live in the database too, not only in Rust:
//! - a balance that must not go negative cannot: `ledger_accounts` carries a CHECK, and a
//!   trigger keeps `balance_cents` equal to the sum of the account's lines;
//! - a transaction balances: lines can only be added to an unsealed transaction, and sealing
//!   one whose lines do not sum to zero per currency is refused (both backends); PostgreSQL
//!   also checks every transaction at commit with a deferred constraint trigger.
//!
//! Lines and transactions are append-only: updates of lines and deletes of either are refused.
use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LedgerAccounts::Table)
                .col(pk_uuid(LedgerAccounts::Id))
                .col(string_len(LedgerAccounts::Kind, 24))
                .col(uuid(LedgerAccounts::OwnerId))
                .col(string_len(LedgerAccounts::Currency, 3))
                .col(big_integer(LedgerAccounts::BalanceCents).default(0))
                .col(boolean(LedgerAccounts::MayGoNegative))
                .col(timestamp_with_time_zone(LedgerAccounts::CreatedAt))
                .check(("ck_ledger_accounts_not_negative", Expr::cust("may_go_negative OR balance_cents >= 0")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_ledger_accounts_owner")
                .table(LedgerAccounts::Table)
                .col(LedgerAccounts::Kind)
                .col(LedgerAccounts::OwnerId)
                .col(LedgerAccounts::Currency)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LedgerTransactions::Table)
                .col(pk_uuid(LedgerTransactions::Id))
                .col(string_len(LedgerTransactions::Kind, 24))
                .col(uuid_null(LedgerTransactions::ContractId))
                .col(uuid_null(LedgerTransactions::OutcomeId))
                .col(uuid_null(LedgerTransactions::PayoutId))
                .col(uuid_null(LedgerTransactions::DisputeId))
                .col(uuid_null(LedgerTransactions::ActorProfileId))
                .col(string_len_null(LedgerTransactions::ProviderRef, 200))
                .col(text(LedgerTransactions::Memo))
                .col(boolean(LedgerTransactions::Sealed).default(false))
                .col(timestamp_with_time_zone(LedgerTransactions::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_ledger_transactions_contract")
                .table(LedgerTransactions::Table)
                .col(LedgerTransactions::ContractId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LedgerLines::Table)
                .col(big_pk_auto(LedgerLines::Id))
                .col(uuid(LedgerLines::TransactionId))
                .col(uuid(LedgerLines::AccountId))
                .col(string_len(LedgerLines::Currency, 3))
                .col(big_integer(LedgerLines::AmountCents))
                .col(uuid_null(LedgerLines::EarnedByProfileId))
                .col(uuid_null(LedgerLines::TaskId))
                .col(timestamp_with_time_zone(LedgerLines::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ledger_lines_transaction")
                        .from(LedgerLines::Table, LedgerLines::TransactionId)
                        .to(LedgerTransactions::Table, LedgerTransactions::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ledger_lines_account")
                        .from(LedgerLines::Table, LedgerLines::AccountId)
                        .to(LedgerAccounts::Table, LedgerAccounts::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_ledger_lines_transaction", LedgerLines::TransactionId),
            ("ix_ledger_lines_account", LedgerLines::AccountId),
        ] {
            m.create_index(Index::create().name(name).table(LedgerLines::Table).col(col).to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(Payouts::Table)
                .col(pk_uuid(Payouts::Id))
                .col(uuid(Payouts::ProfileId))
                .col(string_len(Payouts::Kind, 16))
                .col(string_len(Payouts::Status, 16))
                .col(string_len(Payouts::Currency, 3))
                .col(big_integer(Payouts::AmountCents))
                .col(big_integer(Payouts::FeeCents).default(0))
                .col(uuid_null(Payouts::ContractId))
                .col(uuid_null(Payouts::OutcomeId))
                .col(uuid_null(Payouts::TaskId))
                .col(uuid_null(Payouts::EarnedByProfileId))
                .col(timestamp_with_time_zone_null(Payouts::AvailableAt))
                .col(text_null(Payouts::FailureReason))
                .col(string_len_null(Payouts::ProviderRef, 200))
                .col(timestamp_with_time_zone(Payouts::CreatedAt))
                .col(timestamp_with_time_zone(Payouts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payouts_profile")
                .table(Payouts::Table)
                .col(Payouts::ProfileId)
                .col(Payouts::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payouts_status_available")
                .table(Payouts::Table)
                .col(Payouts::Status)
                .col(Payouts::AvailableAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Disputes::Table)
                .col(pk_uuid(Disputes::Id))
                .col(uuid(Disputes::ContractId))
                .col(uuid(Disputes::OutcomeId))
                .col(uuid(Disputes::OpenedByProfileId))
                .col(text(Disputes::Reason))
                .col(string_len(Disputes::Currency, 3))
                .col(big_integer(Disputes::AmountCents))
                .col(string_len(Disputes::Status, 16))
                .col(string_len_null(Disputes::Resolution, 16))
                .col(big_integer_null(Disputes::ReleasedCents))
                .col(big_integer_null(Disputes::RefundedCents))
                .col(uuid_null(Disputes::ResolvedByProfileId))
                .col(timestamp_with_time_zone(Disputes::CreatedAt))
                .col(timestamp_with_time_zone_null(Disputes::ResolvedAt))
                .to_owned(),
        )
        .await?;
        // One dispute per outcome, ever: a settled outcome is not paid again.
        m.create_index(
            Index::create()
                .name("ux_disputes_outcome")
                .table(Disputes::Table)
                .col(Disputes::OutcomeId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(uuid(IdempotencyKeys::ActorId))
                .col(string_len(IdempotencyKeys::Key, 200))
                .col(string_len(IdempotencyKeys::Operation, 64))
                .col(json(IdempotencyKeys::Request))
                .col(json_null(IdempotencyKeys::Response))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                .primary_key(Index::create().col(IdempotencyKeys::ActorId).col(IdempotencyKeys::Key))
                .to_owned(),
        )
        .await?;

        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            DbBackend::Postgres => &[
                r#"CREATE FUNCTION ledger_apply_line() RETURNS trigger AS $$
                BEGIN
                    IF (SELECT sealed FROM ledger_transactions WHERE id = NEW.transaction_id) THEN
                        RAISE EXCEPTION 'ledger transaction % is sealed', NEW.transaction_id;
                    END IF;
                    UPDATE ledger_accounts SET balance_cents = balance_cents + NEW.amount_cents
                        WHERE id = NEW.account_id AND currency = NEW.currency;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'ledger line % names an account of another currency', NEW.id;
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"#,
                "CREATE TRIGGER ledger_lines_apply BEFORE INSERT ON ledger_lines FOR EACH ROW EXECUTE FUNCTION ledger_apply_line()",
                r#"CREATE FUNCTION ledger_check_balanced(txn uuid) RETURNS void AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM ledger_lines WHERE transaction_id = txn
                               GROUP BY currency HAVING SUM(amount_cents) <> 0) THEN
                        RAISE EXCEPTION 'ledger transaction % does not balance', txn;
                    END IF;
                END $$ LANGUAGE plpgsql"#,
                r#"CREATE FUNCTION ledger_lines_balanced() RETURNS trigger AS $$
                BEGIN
                    PERFORM ledger_check_balanced(NEW.transaction_id);
                    RETURN NULL;
                END $$ LANGUAGE plpgsql"#,
                "CREATE CONSTRAINT TRIGGER ledger_lines_balance AFTER INSERT ON ledger_lines \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_lines_balanced()",
                r#"CREATE FUNCTION ledger_seal() RETURNS trigger AS $$
                BEGIN
                    IF OLD.sealed THEN
                        RAISE EXCEPTION 'ledger transactions are append-only';
                    END IF;
                    IF NEW.sealed THEN
                        PERFORM ledger_check_balanced(NEW.id);
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"#,
                "CREATE TRIGGER ledger_transactions_seal BEFORE UPDATE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_seal()",
                r#"CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'the ledger is append-only';
                END $$ LANGUAGE plpgsql"#,
                "CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
                "CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
            ],
            _ => &[
                r#"CREATE TRIGGER ledger_lines_apply BEFORE INSERT ON ledger_lines
                BEGIN
                    SELECT RAISE(ABORT, 'ledger transaction is sealed')
                        WHERE (SELECT sealed FROM ledger_transactions WHERE id = NEW.transaction_id);
                    SELECT RAISE(ABORT, 'ledger line names an account of another currency')
                        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE id = NEW.account_id AND currency = NEW.currency);
                    UPDATE ledger_accounts SET balance_cents = balance_cents + NEW.amount_cents WHERE id = NEW.account_id;
                END"#,
                r#"CREATE TRIGGER ledger_transactions_seal BEFORE UPDATE ON ledger_transactions
                BEGIN
                    SELECT RAISE(ABORT, 'ledger transactions are append-only') WHERE OLD.sealed;
                    SELECT RAISE(ABORT, 'ledger transaction does not balance')
                        WHERE NEW.sealed AND EXISTS (SELECT 1 FROM ledger_lines WHERE transaction_id = NEW.id
                                                     GROUP BY currency HAVING SUM(amount_cents) <> 0);
                END"#,
                r#"CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines
                BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"#,
                r#"CREATE TRIGGER ledger_lines_no_delete BEFORE DELETE ON ledger_lines
                BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"#,
                r#"CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
                BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"#,
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in
            ["idempotency_keys", "disputes", "payouts", "ledger_lines", "ledger_transactions", "ledger_accounts"]
        {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        if m.get_database_backend() == DbBackend::Postgres {
            for function in [
                "ledger_apply_line",
                "ledger_lines_balanced",
                "ledger_seal",
                "ledger_append_only",
                "ledger_check_balanced",
            ] {
                m.get_connection().execute_unprepared(&format!("DROP FUNCTION IF EXISTS {function} CASCADE")).await?;
            }
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LedgerAccounts {
    Table,
    Id,
    Kind,
    OwnerId,
    Currency,
    BalanceCents,
    MayGoNegative,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    Kind,
    ContractId,
    OutcomeId,
    PayoutId,
    DisputeId,
    ActorProfileId,
    ProviderRef,
    Memo,
    Sealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerLines {
    Table,
    Id,
    TransactionId,
    AccountId,
    Currency,
    AmountCents,
    EarnedByProfileId,
    TaskId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Payouts {
    Table,
    Id,
    ProfileId,
    Kind,
    Status,
    Currency,
    AmountCents,
    FeeCents,
    ContractId,
    OutcomeId,
    TaskId,
    EarnedByProfileId,
    AvailableAt,
    FailureReason,
    ProviderRef,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Disputes {
    Table,
    Id,
    ContractId,
    OutcomeId,
    OpenedByProfileId,
    Reason,
    Currency,
    AmountCents,
    Status,
    Resolution,
    ReleasedCents,
    RefundedCents,
    ResolvedByProfileId,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ActorId,
    Key,
    Operation,
    Request,
    Response,
    CreatedAt,
    ExpiresAt,
}
