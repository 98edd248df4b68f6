//! `GET /events/{id}.ics`: the iCalendar file of a public event.
use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::HttpState;
use crate::{domain::event, error::AppError};

/// Serves the calendar file, or 404 for unknown and non-public events.
pub async fn event_ics(State(state): State<HttpState>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".ics").and_then(|id| id.parse().ok()) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match event::public(&state.app.db, id).await {
        Ok(e) => {
            let body = event::ics::render(&e, state.app.clock.now());
            let disposition = format!("attachment; filename=\"event-{id}.ics\"");
            (
                [
                    (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response()
        }
        Err(AppError::NotFound(_)) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "rendering iCalendar");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
