"""Local workspace: a loopback Slack Web API stand-in and a driver that plays the Slack client."""

from bot.local.blockkit import Element
from bot.local.driver import AppEndpoint, AppResponse, DriverError, SlackDriver, StepDelivery
from bot.local.http import serve_wsgi
from bot.local.slack_api import (
    AppCredentials,
    Call,
    LocalSlackAPI,
    Message,
    SlackError,
    SlackUser,
    SlackWorkspace,
    StepRun,
    UploadedFile,
)

__all__ = [
    "AppCredentials",
    "AppEndpoint",
    "AppResponse",
    "Call",
    "DriverError",
    "Element",
    "LocalSlackAPI",
    "Message",
    "SlackDriver",
    "SlackError",
    "SlackUser",
    "SlackWorkspace",
    "StepDelivery",
    "StepRun",
    "UploadedFile",
    "serve_wsgi",
]
