"""Pure Block Kit builders: data in, view dicts out (no database, network or clock).

Callback and action ids are namespaced and stable; other programs and tests rely on them.

Shortcuts (callback_id, as the app manifest declares them):
  shortcut.find_customer    global: open the hub, as `/customers` does
  shortcut.new_customer     global: open Create Customer
  shortcut.add_to_notes     on a message: open Add to customer notes with the message's text
  shortcut.customer_from_message  on a message: open Create Customer filled in with the email,
                            mobile and name the message holds

Workflow Builder steps (callback_id, as the app manifest's `functions` declare them; each
takes `runner`, the person running the workflow, who must be staff):
  find_customer             email or mobile → customer_id (the UID), name, first_name,
                            last_name, email, mobile, status
  create_customer           first_name, last_name, email, mobile → the same outputs
  add_customer_note         customer_id, note → note_id, customer_id
  book_customer_on_event    customer_id, event (its name), date, time (HH:MM, when the event has
                            several sessions that day), payment (manual, free or pass)
                            → booking_id, session

Views (callback_id):
  hub.view                  the customers hub, as a modal or the App Home tab's Customers page
                            (private_metadata there {"home": "customers", "hub": …, "day": …})
  today.view                the App Home tab's Today page, where Home opens for staff
                            (private_metadata {"home": "today", "hub": …: Customers to go back to})
  customer_form.submit      Create Customer / Edit Contact
  customer_delete.submit    confirmation before a permanent delete
  customer_anonymise.submit confirmation before Anonymise, admins: what is erased, what is kept;
                            also shown in Delete's place for a customer holding payments
  customer_anonymise.refused  shown instead when it can't be done (merged away, not ours)
  customer_details.view     a customer's details (submit "Search" on tabs with a search box)
  customer_details.gone     shown instead of details that can't be shown (deleted, not ours)
  unavailable.view          a plain message while the database or Slack can't be reached
  note_form.submit          Add Note / Edit Note (input block_id content)
  note.details              one note in full
  questionnaire.details     a questionnaire's questions and answers; submit turns it into…
  questionnaire_answers.submit  …the answer form (input block_ids answer_0, answer_1, …)
  questionnaire_assign.submit   Assign Questionnaire (input block_id template)
  merge.submit              Merge Customer (input block_id target: the customer to keep)
  customer_tags.submit      Edit tags over a customer's details (input block_id tags)
  customer_consent.submit   Marketing consent over a customer's details (radio block_ids
                            consent_state: granted / withdrawn / unknown, consent_source:
                            phone / slack / form)
  tags_admin.submit         the admins' Tags modal: each tag with its count; Apply renames the
                            chosen tag (block_id new_name) or merges it into another (target)
  message_note.submit       Add to customer notes (input block_ids uid: the customer, content:
                            the note; metadata the message's channel, ts, author, permalink);
                            saved once per message and customer
  message_note.done         what it becomes once saved, or why it can't be
  merge.submit              Merge Customer (input block_ids target: the customer to keep,
                            reason: why, kept in both customers' account history)
  household.submit          Link someone over a customer's details (input block_ids person:
                            the customer to link, relation: what this customer is to them)
  duplicates.view           Possible duplicates, admins: pairs ranked by evidence
  duplicates.refused        shown to staff instead: only an admin reviews duplicates
  book_event.submit         Book an Event (input block_ids occurrence_id, payment, price,
                            pass_id, payment_intent_id: the services' field names)
  booking_transfer.submit   Transfer a booking (occurrence_id)
  booking_refund.submit     Refund a Stripe-paid booking, admins (amount)
  book_appointment.submit   Book Appointment (service_id, facilitator_id, day, starts_at,
                            payment, price, pass_id, payment_intent_id)
  appointment_reschedule.submit  Reschedule an appointment (day, starts_at)
  assign_pass.submit        Assign Pass (pass_type_id, valid_from, payment, price,
                            payment_intent_id)
  pass_adjust.submit        Adjust a pass's credits (delta, reason)
  pass_extend.submit        Extend a pass (valid_to)
  assign_video.submit       Assign Video (video_id, payment, price, pass_id)
  video_extend.submit       Extend a video purchase (extra_days or expires_at)
  start_subscription.submit Start subscription: a Stripe link to subscribe to a plan is mailed
                            (input block_id plan_id; plans without a Stripe price say why not)
  commerce_confirm.submit   Cancel a booking, appointment, pass or video, or Suspend a
                            subscription ("Keep it" closes it; metadata names tab, verb, row)
  commerce.working          a form whose change outlasts Slack's 3 s wait, while it runs
  commerce.result           that change's result; also "nothing to book/assign yet"
  settings.submit           Studio settings, admins (input block_ids name, timezone, currency,
                            default_region, portal_url, mail_sender_name, mail_reply_to,
                            credit_rule)
  checkin.view              a session's check-in list (no submit): its bookings, each with
                            Attended / No-show / Undo once the session's day has come; metadata
                            {"occurrence_id": …}
  alerts.submit             Channel alerts, admins: which happenings post into one channel
                            (input block_id kinds, checkboxes alerts.kinds; private_metadata
                            the channel id); refused under the field unless all are staff
  settings.message          shown instead of Studio settings when it can't be saved
  stripe_account.submit     the studio's Stripe key and webhook signing secret, admins (input
                            block_ids stripe_key, webhook_secret; blank keeps what is stored)
  stripe_account.message    shown instead of the Stripe form when it can't be saved
  catalog_event.submit      Add event / Edit event, admins (input block_ids name, day, start,
                            end, capacity, price, credits, location; adding also repeat_days,
                            repeat_until)
  catalog_event.message     shown instead of the event form when it can't be saved
  catalog_items.list        one kind's catalog items, opened from Home (no submit): current,
                            then archived; metadata {"kind": …}
  catalog_item.submit       Add / Edit a service, facilitator, pass type, video, plan or
                            questionnaire, admins; input block_ids are the kind's fields:
                            service name, duration, price, credits, links; facilitator name,
                            slack_user, links; pass type name, credits, validity, price; video
                            name, price, credits, access_days; plan name, price, interval,
                            stripe_price; questionnaire name, questions (one a line; left out
                            when too long for a Slack field, and then kept) (metadata kind,
                            item_id: 0 adds, list_view: the list redrawn after saving)
  catalog_item.message      shown instead of the item form when it can't be saved
  customer_import.submit    `/customers import` (admins): the CSV file (input block_id file,
                            a file_input, at most 25 MB) and welcome (the checkbox)
  customer_import.columns   the column each field is read from (input block_ids col_<field>,
                            such as col_email); metadata file_id, name, welcome, columns, mapping;
                            the file is downloaded again with the bot token at each step
  customer_import.preview   the dry run's counts and first 20 problems (the full report is sent
                            to the admin's DM as CSV); submit imports in the background, a DM
                            message following it
  customer_import.message   a step's outcome in the modal's place: reading, started, why not

Actions (action_id → value):
  home.today / home.customers         the App Home's switch (block_id home_switch): Today, or
                                      the Customers page as it was left
  today.open_customer                 UID: a customer named on Today (an appointment's or an
                                      alert's): open their details, as Manage does
  hub.tab.active / hub.tab.archived   switch tab
  hub.search                          as-you-type search (block_id hub_search)
  hub.sort                            toggle Name A→Z / Z→A
  hub.page.prev / hub.page.next       previous / next page
  hub.create                          open Create Customer
  hub.export                          Export CSV (admins): the tab and search shown, as a CSV
                                      file in the admin's DM
  hub.undo                            "archive|UID" or "activate|UID"
  customer.open                       UID: open details (the name button)
  customer.row_menu                   overflow: "manage|UID", "edit|UID", "archive|UID",
                                      "activate|UID", "delete|UID"
  customer_details.edit               UID: Edit Contact from the details view
  customer_details.post_chart         UID: post the 12-month sales chart (PNG) where the hub
                                      was opened (`/customers`'s channel; from Home a DM)
  customer_details.tab.<tab>          switch tab: bookings, appointments, passes, videos,
                                      subscriptions, questionnaires, notes, account
  customer_details.search             as-you-type search (block_id details_search_<tab>)
  customer_details.page.prev / .next  previous / next page of the tab
  customer_details.commerce           "book_event", "book_appointment", "assign_pass",
                                      "assign_video", "start_subscription": push that form
                                      over the details
  customer_details.row                row overflow: "<tab>|<verb>|<id>": bookings transfer,
                                      cancel, refund (Stripe-paid; admins); appointments
                                      reschedule, cancel; passes adjust, extend, cancel; videos
                                      extend (if it expires), cancel; subscriptions pause and
                                      resume (at once), suspend (confirmed; final); "link" on an
                                      unpaid booking, appointment, pass or video: Send payment
                                      link (mails a Stripe Checkout link, or shows the open one)
  customer_details.archive / .activate  UID: Archive Customer / Activate Customer
  customer_details.undo               "archive|UID" or "activate|UID" (the details' Undo)
  customer_details.merge              UID: open Merge Customer (admins)
  customer_details.open               UID: show another customer (the one a merge kept)
  customer_details.anonymise          UID: open the Anonymise confirmation (admins)
  household.add                       UID: open Link someone (the details' Household)
  household.open                      UID: show a linked person's details in the same view
  household.unlink                    UID of the linked person: Unlink (confirmed)
  household.person                    external select of customers (options: block_suggestion,
                                      never the customer themselves), value UID
  household.relation                  static select: parent, child or partner (what the
                                      details' customer is to the person)
  alerts.edit                         channel id: Home's Edit beside a channel's alerts (admins)
  alerts.remove                       channel id: Home's Remove (confirmed): no more alerts there
  customer_details.password_reset     UID: mail the customer a new portal password (confirmed);
                                      only admins type a password in Create / Edit Contact
  customer_details.export_data        UID: Export data (JSON), admins: everything held about
                                      the customer, as a file in the admin's DM
  note.add                            open Add Note
  note.view / note.edit / note.delete note id (Delete carries Slack's confirm dialog)
  note_form.content                   the note text (block_id content)
  questionnaire.assign                open Assign Questionnaire
  questionnaire.view                  response id: open its questions and answers
  questionnaire_assign.template       static select of templates (value template id)
  questionnaire_answers.answer        one answer (block_id answer_<index>)
  merge.target                        external select (options: block_suggestion, search as
                                      you type; choosing one shows the preview), value UID
  message_note.customer               external select of customers (options: block_suggestion),
                                      value UID
  message_note.content                the note text (block_id content)
  merge.reason                        the merge's reason (required, short)
  duplicates.open                     Home's Review duplicates: open the list (admins)
  duplicates.compare                  value "<keep UID>|<other UID>": the merge preview of the
                                      pair, pushed over the list
  duplicates.dismiss                  the same value: Not a duplicate, remembered for good
  book_event.occurrence               the session: a static select of those to come (Slack
                                      filters it as you type), or past 99 an external select
                                      (options: block_suggestion by event name); choosing one
                                      redraws the form
  booking_transfer.occurrence         the same, in Transfer (no redraw)
  <form>.payment                      radio Manual / Pass credit / Record a Stripe payment /
                                      Send a payment link (the last two only when the studio
                                      has Stripe; a link only to a customer with an email
                                      address); redraws the form.
                                      <form> is book_event, book_appointment, assign_pass or
                                      assign_video; its other payment inputs are <form>.price,
                                      <form>.intent and <form>.pass_<what the credits pay for>
  booking_refund.amount               the amount (preset to what is left to refund)
  book_appointment.service            service select; redraws (the facilitators who give it)
  book_appointment.facilitator_<service id>  facilitator select
  book_appointment.day / .time        date picker (redraws: passes valid that day) and time
                                      picker in the business time zone
  appointment_reschedule.day / .time  the same, preset to the appointment's
  assign_pass.type / .valid_from      pass type select, optional first day
  pass_adjust.delta / .reason         whole number (+ adds, - removes), required reason
  pass_extend.valid_to                date picker
  assign_video.video                  video select; redraws (passes that can pay today)
  start_subscription.plan             plan select (plans with a Stripe price, not archived)
  video_extend.days / .until          extra days, or a new last day
  chart.choose                        UID: post that customer's chart where `/customers chart NAME`
                                      offered the customers the name matched (an ephemeral message)
  unfurl.open                         UID: a customer link's card (classic unfurl or Work Object,
                                      and its flexpane): open the customer's details
  unfurl.add_note                     UID: the same, on the Notes tab
  customer_form.<field>               form inputs; block_id is the field name
                                      (first_name, last_name, email, mobile, password)
  customer_form.duplicate_ok          checkbox (block_id duplicate_ok) "Create anyway" / "Save
                                      anyway", in the form once a possible match was shown
  customer_form.open_match            value UID: a possible match's details over the form
  tags.pick                           the tag picker (multi_external_select, block_id tags) in
                                      Create / Edit Contact and Edit tags (options:
                                      block_suggestion: the workspace's tags containing what is
                                      typed, and what is typed as a new tag), value the tag name
  customer_details.tags               open Edit tags over the details (staff)
  customer_details.consent            open Marketing consent over the details (staff)
  tags.open                           Home's Manage tags: open the Tags modal (admins; staff
                                      are told only an admin can)
  settings.open                       Home's Settings button: open Studio settings (admins;
                                      staff are told only an admin can)
  settings.timezone / .currency       external selects (options: block_suggestion, zoneinfo's
                                      time zones / Babel's ISO 4217 currencies as you type)
  settings.<field>                    Studio settings' other inputs; block_id is the field name
                                      (name, default_region, portal_url, mail_sender_name,
                                      mail_reply_to; credit_rule: radio "at_booking" /
                                      "at_check_in", when a pass credit is used)
  attendance.attended / .no_show / .undo  buttons under a booking on the Bookings tab once its
                                      session's day has come, "booking|<id>|<version>": record
                                      Attended or No-show, or undo it (staff)
  open_checkin                        occurrence id: open that session's check-in list (over
                                      the modal it is pressed in, else on its own)
  checkin.attended / .no_show / .undo the same three beside each booking in the check-in list,
                                      the same value; the list is redrawn in place
  stripe_account.open                 Home's Connect Stripe / Change Stripe key button: open the
                                      Stripe modal (admins; staff are told only an admin can)
  stripe_account.connect              Home's Connect with Stripe (value "start"; admins, with
                                      STRIPE_CONNECT_CLIENT_ID): a single-use link to Stripe
                                      Connect's consent page, made then, in a modal; that link's
                                      own press (value "link") is only acknowledged
  stripe_account.disconnect           Home's Disconnect Stripe (admins; confirmed)
  stripe_account.key / .webhook_secret  the Stripe form's inputs
  catalog.event_add                   Home's Add event button: open Add event (admins; staff
                                      are told only an admin can)
  catalog.event_menu                  overflow on each upcoming event on Home (admins):
                                      "edit|<occurrence id>", "archive|<occurrence id>"
  catalog_event.<field>               the event form's inputs; block_id is the field name
                                      (repeat_days: checkboxes of weekdays, 0 is Monday)
  catalog.items.<kind>                Home's button per kind (service, facilitator, pass_type,
                                      video, plan, questionnaire; value the kind): open its list
                                      (staff read it)
  catalog_items.add                   Add in a kind's list: push the empty item form (admins;
                                      staff are told only an admin can)
  catalog_items.menu                  overflow on each item in a list (admins): "edit|<id>",
                                      "archive|<id>"; on archived items "restore|<id>"
  customer_import.file                the file_input of `/customers import` (block_id file)
  customer_import.welcome             checkbox: send welcome mails to new customers
  customer_import.column              each field's column select (block_id col_<field>;
                                      value the column's index or "none")
  customer_import.back                Back to columns on the preview
  catalog_item.<field>                the item form's inputs; block_id is the field name
                                      (links: multi-select of the facilitators giving a service,
                                      or the services a facilitator gives; slack_user: users
                                      select; interval: static select week, month, year)
"""
