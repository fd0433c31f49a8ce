"""Local workspace: a loopback Slack Web API stand-in and a driver that plays the Slack client."""

from bot.local.blockkit import Element
from bot.local.driver import AppResponse, DriverError, SlackDriver
from bot.local.http import serve_wsgi
from bot.local.slack_api import (
    Call,
    LocalSlackAPI,
    Message,
    SlackError,
    SlackUser,
    UploadedFile,
)

__all__ = [
    "AppResponse",
    "Call",
    "DriverError",
    "Element",
    "LocalSlackAPI",
    "Message",
    "SlackDriver",
    "SlackError",
    "SlackUser",
    "UploadedFile",
    "serve_wsgi",
]
