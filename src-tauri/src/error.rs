//! Errors as the webview receives them: `{kind, message}`.

use cliffwatch_core::model::ErrorDto;

/// The error type of every command.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct CommandError(pub ErrorDto);

impl From<cliffwatch_core::Error> for CommandError {
    fn from(e: cliffwatch_core::Error) -> Self {
        CommandError(ErrorDto::from(&e))
    }
}

impl From<ErrorDto> for CommandError {
    fn from(e: ErrorDto) -> Self {
        CommandError(e)
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
