//! The planner: a pure function from (desired, actual) to a DAG of actions.
