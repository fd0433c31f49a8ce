"""Pure Block Kit builders: data in, view dicts out (no database, network or clock).

Callback and action ids are namespaced and stable; other programs and tests rely on them.

Views (callback_id):
  hub.view                  the customers hub, as a modal or the App Home tab
  customer_form.submit      Create Customer / Edit Contact
  customer_delete.submit    confirmation before a permanent delete
  customer_details.view     a customer's details

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
  customer_form.<field>               form inputs; block_id is the field name
                                      (first_name, last_name, email, mobile, password)
"""
