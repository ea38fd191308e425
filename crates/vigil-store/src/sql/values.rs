//! Values in and out of statements, for both drivers: [`Value`] parameters
//! and [`Row`] columns read as [`Column`] types.

use crate::Error;

/// A statement parameter, borrowed from the caller.
///
/// Text also fills PostgreSQL's `JSONB` columns: the store writes JSON it
/// has just serialised, and reads it back as text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// SQL `NULL` (any column type).
    Null,
    /// An integer; PostgreSQL's `INTEGER` and `SMALLINT` take it if it fits.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// A flag (an integer 0 or 1 in SQLite).
    Bool(bool),
    /// Text, or a JSON document.
    Text(&'a str),
}

/// What can be passed as a [`Value`] (see `args!`).
pub(crate) trait ToValue {
    /// The value, borrowing from `self`.
    fn to_value(&self) -> Value<'_>;
}

macro_rules! to_value {
    ($($type:ty => |$v:ident| $value:expr),* $(,)?) => {
        $(impl ToValue for $type {
            fn to_value(&self) -> Value<'_> {
                let $v = self;
                $value
            }
        })*
    };
}

to_value! {
    i64 => |v| Value::Int(*v),
    u32 => |v| Value::Int(i64::from(*v)),
    u16 => |v| Value::Int(i64::from(*v)),
    f64 => |v| Value::Real(*v),
    bool => |v| Value::Bool(*v),
    str => |v| Value::Text(v),
    String => |v| Value::Text(v),
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// One result row of either driver.
pub(crate) enum Row<'a> {
    /// A SQLite row.
    Sqlite(&'a rusqlite::Row<'a>),
    /// A PostgreSQL row.
    #[cfg(feature = "postgres")]
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0).
    pub(crate) fn get<T: Column>(&self, index: usize) -> Result<T, Error> {
        match self {
            Row::Sqlite(row) => Ok(T::from_sqlite(row, index)?),
            #[cfg(feature = "postgres")]
            Row::Postgres(row) => Ok(T::from_postgres(row, index)?),
        }
    }

    /// Text column `index`, borrowed: no copy on hot paths.
    pub(crate) fn str(&self, index: usize) -> Result<&str, Error> {
        match self {
            Row::Sqlite(row) => Ok(row.get_ref(index)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?),
            #[cfg(feature = "postgres")]
            Row::Postgres(row) => Ok(row.try_get::<_, postgres_glue::Text<'_>>(index)?.0),
        }
    }
}

/// A Rust type a column is read as.
pub(crate) trait Column: Sized {
    /// From a SQLite row.
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self>;

    /// From a PostgreSQL row.
    #[cfg(feature = "postgres")]
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error>;
}

macro_rules! column {
    ($($type:ty),* $(,)?) => {
        $(impl Column for $type {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
                row.get(index)
            }

            #[cfg(feature = "postgres")]
            fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
                row.try_get(index)
            }
        })*
    };
}

column!(i64, Option<i64>, f64, bool);

impl Column for String {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get(index)
    }

    #[cfg(feature = "postgres")]
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
        Ok(row
            .try_get::<_, postgres_glue::Text<'_>>(index)?
            .0
            .to_owned())
    }
}

impl Column for Option<String> {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get(index)
    }

    #[cfg(feature = "postgres")]
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
        Ok(row
            .try_get::<_, Option<postgres_glue::Text<'_>>>(index)?
            .map(|text| text.0.to_owned()))
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(v),
            Value::Real(v) => ValueRef::Real(v),
            Value::Bool(v) => ValueRef::Integer(i64::from(v)),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

#[cfg(feature = "postgres")]
mod postgres_glue {
    use std::error::Error as StdError;

    use bytes::{BufMut, BytesMut};
    use postgres::types::{FromSql, IsNull, ToSql, Type, WrongType};

    use super::Value;

    type BoxError = Box<dyn StdError + Sync + Send>;

    /// The version byte of PostgreSQL's binary `JSONB` format, before the
    /// JSON text.
    const JSONB_VERSION: u8 = 1;

    /// A text column, or a JSON one read as its text.
    pub(crate) struct Text<'a>(pub(crate) &'a str);

    impl<'a> FromSql<'a> for Text<'a> {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            let raw = match (*ty == Type::JSONB, raw.split_first()) {
                (false, _) => raw,
                (true, Some((&JSONB_VERSION, json))) => json,
                (true, _) => return Err("unknown JSONB format version".into()),
            };
            Ok(Text(std::str::from_utf8(raw)?))
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::JSONB || *ty == Type::JSON || <&str as FromSql>::accepts(ty)
        }
    }

    impl ToSql for Value<'_> {
        fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
            match *self {
                Value::Null => Ok(IsNull::Yes),
                Value::Int(v) if *ty == Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Value::Int(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Value::Int(v) => v.to_sql(ty, out),
                Value::Real(v) => v.to_sql(ty, out),
                Value::Bool(v) => v.to_sql(ty, out),
                Value::Text(v) if *ty == Type::JSONB => {
                    out.put_u8(JSONB_VERSION);
                    out.put_slice(v.as_bytes());
                    Ok(IsNull::No)
                }
                Value::Text(v) => v.to_sql(ty, out),
            }
        }

        /// Any type: [`ToSql::to_sql_checked`] checks each value's own.
        fn accepts(_: &Type) -> bool {
            true
        }

        fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
            let fits = match self {
                Value::Null => true,
                Value::Int(_) => matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8),
                Value::Real(_) => <f64 as ToSql>::accepts(ty),
                Value::Bool(_) => <bool as ToSql>::accepts(ty),
                Value::Text(_) => *ty == Type::JSONB || <&str as ToSql>::accepts(ty),
            };
            if !fits {
                return Err(Box::new(WrongType::new::<Self>(ty.clone())));
            }
            self.to_sql(ty, out)
        }
    }
}
