"""Pure Block Kit builders: data in, view dicts out (no database, network or clock).

Callback and action ids are namespaced and stable; other programs and tests rely on them.

Views (callback_id):
  hub.view                  the customers hub, as a modal or the App Home tab
  customer_form.submit      Create Customer / Edit Contact
  customer_delete.submit    confirmation before a permanent delete
  customer_details.view     a customer's details (submit "Search" on tabs with a search box)
  customer_details.gone     shown instead of details that can't be shown (deleted, not ours)
  note_form.submit          Add Note / Edit Note (input block_id content)
  note.details              one note in full
  questionnaire.details     a questionnaire's questions and answers; submit turns it into…
  questionnaire_answers.submit  …the answer form (input block_ids answer_0, answer_1, …)
  questionnaire_assign.submit   Assign Questionnaire (input block_id template)
  merge.submit              Merge Customer (input block_id target: the customer to keep)

Actions (action_id → value):
  hub.tab.active / hub.tab.archived   switch tab
  hub.search                          as-you-type search (block_id hub_search)
  hub.sort                            toggle Name A→Z / Z→A
  hub.page.prev / hub.page.next       previous / next page
  hub.create                          open Create Customer
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
                                      "assign_video" (the commerce release implements them)
  customer_details.row                row overflow: "<tab>|<verb>|<id>", verbs transfer, cancel,
                                      refund, reschedule, adjust, extend, pause, resume, suspend
  customer_details.archive / .activate  UID: Archive Customer / Activate Customer
  customer_details.undo               "archive|UID" or "activate|UID" (the details' Undo)
  customer_details.merge              UID: open Merge Customer (admins)
  customer_details.open               UID: show another customer (the one a merge kept)
  note.add                            open Add Note
  note.view / note.edit / note.delete note id (Delete carries Slack's confirm dialog)
  note_form.content                   the note text (block_id content)
  questionnaire.assign                open Assign Questionnaire
  questionnaire.view                  response id: open its questions and answers
  questionnaire_assign.template       static select of templates (value template id)
  questionnaire_answers.answer        one answer (block_id answer_<index>)
  merge.target                        external select (options: block_suggestion, search as
                                      you type; choosing one shows the preview), value UID
  customer_form.<field>               form inputs; block_id is the field name
                                      (first_name, last_name, email, mobile, password)
"""
