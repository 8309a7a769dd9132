//! One line for an error and its causes (`a: b: c`), for messages that name a service or an
//! image in front of whatever went wrong underneath.

pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
