//! Money on the wire: amounts travel as `Cents`, one custom scalar used for every amount, and
//! `Money` pairs an amount with its currency.
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};

/// An amount in the minor units of its currency (cents for EUR, yen for JPY, fils for KWD),
/// as a JSON integer. Amounts are 0 to 1,000,000,000,000, well inside JavaScript's safe
/// integers (GraphQL's `Int` is 32-bit and too small for money). An input outside that range
/// is refused as BAD_USER_INPUT naming its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cents(pub i64);

/// An amount in the minor units of its currency (cents for EUR, yen for JPY), as a JSON
/// integer from 0 to 1,000,000,000,000: inside JavaScript's safe integers, unlike GraphQL's
/// 32-bit `Int`.
#[Scalar(name = "Cents")]
impl ScalarType for Cents {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n.as_i64().map(Cents).ok_or_else(|| {
                InputValueError::custom("Cents must be a whole number of minor units within 64-bit range")
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.is_i64())
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

/// An amount of money with its ISO 4217 currency.
#[derive(SimpleObject, Clone, Debug)]
pub struct Money {
    /// Amount in minor units, e.g. 1250 for EUR 12.50 or 1250 for JPY 1,250.
    pub amount_cents: Cents,
    /// ISO 4217 code, e.g. EUR.
    pub currency: String,
}

impl Money {
    /// `cents` of `currency`.
    pub fn new(cents: i64, currency: impl Into<String>) -> Self {
        Self { amount_cents: Cents(cents), currency: currency.into() }
    }
}
