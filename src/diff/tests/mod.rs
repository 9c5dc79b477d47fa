//! Unit tests of the diff and of executing its plans, over the in-memory fake.

mod deletes;
