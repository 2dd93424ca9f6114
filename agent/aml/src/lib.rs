//! AutomationML element trees (work in progress).
