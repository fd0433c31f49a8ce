"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from core.models.alert import AlertEvent, AlertPost, AlertSubscription
from core.models.appointment import Appointment, AppointmentState
from core.models.base import Base
from core.models.booking import Attendance, Booking, BookingState, RefundState
from core.models.catalog import (
    AppointmentService,
    Event,
    EventOccurrence,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
    facilitator_services,
)
from core.models.commerce import LinkStatus, PaymentIntentUse, PaymentLink, PaymentMethod
from core.models.customer import Customer, CustomerStatus
from core.models.customer_facts import (
    SEGMENT_NAME_MAX,
    CustomerFacts,
    FactsReady,
    Segment,
    SegmentCount,
    SegmentDigestMember,
)
from core.models.duplicate import NotDuplicate
from core.models.history import HistoryEntry
from core.models.home_view import TodayViewer
from core.models.household import CustomerLink, Relation
from core.models.mail import MailStatus, OutboxMail
from core.models.note import NOTE_MAX, Note
from core.models.passes import Pass, PassState
from core.models.questionnaire import QuestionnaireResponse, QuestionnaireStatus
from core.models.slack_event import ConversationChange, SeenSlackEvent
from core.models.staff import Role, StaffMember
from core.models.stripe_event import StripeEvent
from core.models.subscription import Subscription, SubscriptionState
from core.models.tag import TAG_MAX, ConsentSource, ConsentState, CustomerTag, Tag
from core.models.video_purchase import VideoPurchase, VideoState
from core.models.view_redraw import ViewRedraw
from core.models.workspace import CreditRule, StripeConnectState, Workspace, WorkspaceAuditEntry

__all__ = [
    "NOTE_MAX",
    "SEGMENT_NAME_MAX",
    "TAG_MAX",
    "AlertEvent",
    "AlertPost",
    "AlertSubscription",
    "Appointment",
    "AppointmentService",
    "AppointmentState",
    "Attendance",
    "Base",
    "Booking",
    "BookingState",
    "ConsentSource",
    "ConsentState",
    "ConversationChange",
    "CreditRule",
    "Customer",
    "CustomerFacts",
    "CustomerLink",
    "CustomerStatus",
    "CustomerTag",
    "Event",
    "EventOccurrence",
    "Facilitator",
    "FactsReady",
    "HistoryEntry",
    "LinkStatus",
    "MailStatus",
    "NotDuplicate",
    "Note",
    "OutboxMail",
    "Pass",
    "PassState",
    "PassType",
    "PaymentIntentUse",
    "PaymentLink",
    "PaymentMethod",
    "QuestionnaireResponse",
    "QuestionnaireStatus",
    "QuestionnaireTemplate",
    "RefundState",
    "Relation",
    "Role",
    "SeenSlackEvent",
    "Segment",
    "SegmentCount",
    "SegmentDigestMember",
    "StaffMember",
    "StripeConnectState",
    "StripeEvent",
    "Subscription",
    "SubscriptionPlan",
    "SubscriptionState",
    "Tag",
    "TodayViewer",
    "Video",
    "VideoPurchase",
    "VideoState",
    "ViewRedraw",
    "Workspace",
    "WorkspaceAuditEntry",
    "facilitator_services",
]
