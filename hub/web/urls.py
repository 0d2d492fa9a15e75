"""Every address of the hub. Paths and names are public (webhook and OAuth redirect URLs,
bookmarks, reverse() everywhere): change neither without a redirect."""

from django.contrib import admin
from django.urls import include, path

from hub.web import (
    ai_usage,
    api_key_pages,
    app_events,
    audit,
    choices,
    connections,
    editor,
    editor_steps,
    editor_testing,
    editor_versions,
    evaluations,
    gallery,
    home,
    members,
    oauth,
    publish_check,
    recipes,
    runs,
    slack_events_setup,
    system,
    triggers,
    webhooks,
    workspace_settings,
)

connection_urls = [
    path("", connections.connection_list, name="connections"),
    path("apps/slack/events/", slack_events_setup.slack_events, name="slack_events_setup"),
    path("apps/<slug:slug>/", oauth.app_setup, name="connection_app"),
    path("keys/<slug:slug>/add/", api_key_pages.add_key, name="connection_add_key"),
    path("<int:pk>/models/", api_key_pages.models, name="connection_models"),
    path("<int:pk>/key/", api_key_pages.replace_key, name="connection_replace_key"),
    path("apps/<slug:slug>/connect/", oauth.connect, name="connection_connect"),
    path("<slug:slug>/callback/", oauth.callback, name="connection_callback"),
    path("<int:pk>/", connections.detail, name="connection_detail"),
    path("<int:pk>/settings/", connections.update_settings, name="connection_settings"),
    path("<int:pk>/test/", connections.test, name="connection_test"),
    path("<int:pk>/disconnect/", connections.disconnect, name="connection_disconnect"),
]

# The recipe editor (hub/web/editor*.py): the page and the endpoints its cards post to.
editor_urls = [
    path("", editor.page, name="editor"),
    path("name/", editor.save_name, name="editor_name"),
    path("trigger/", editor.save_trigger, name="editor_trigger"),
    path("trigger/test/", editor_testing.test_trigger, name="editor_test_trigger"),
    path("trigger/test/wait/", editor_testing.wait_for_call, name="editor_test_trigger_wait"),
    path("publish/", editor.publish, name="editor_publish"),
    path("publish/check/<int:run_id>/", publish_check.poll, name="editor_publish_check"),
    path("data/", editor_steps.insert_data, name="editor_data"),
    path("steps/add/", editor_steps.add_step, name="editor_add_step"),
    path("steps/<slug:key>/", editor.save_step, name="editor_step"),
    path("steps/<slug:key>/test/", editor_testing.test_step, name="editor_test_step"),
    path("steps/<slug:key>/move/", editor_steps.move_step, name="editor_move_step"),
    path("steps/<slug:key>/duplicate/", editor_steps.duplicate_step, name="editor_duplicate_step"),
    path("steps/<slug:key>/delete/", editor_steps.delete_step, name="editor_delete_step"),
]

recipe_urls = [
    path("", recipes.recipe_list, name="recipes"),
    path("import/", recipes.import_file, name="recipe_import"),
    path("choices/", choices.field_choices, name="recipe_choices"),
    path("new/", editor.new_recipe, name="recipe_new"),
    path("templates/", gallery.gallery, name="recipe_templates"),
    path("templates/<slug:slug>/", gallery.use_template, name="recipe_template_use"),
    path("<int:pk>/", recipes.recipe_detail, name="recipe_detail"),
    path("<int:pk>/run/", recipes.run_now, name="recipe_run"),
    path("<int:pk>/publish/", recipes.publish, name="recipe_publish"),
    path("<int:pk>/pause/", recipes.pause, name="recipe_pause"),
    path("<int:pk>/secret/", recipes.secret, name="recipe_secret"),
    path("<int:pk>/delete/", recipes.delete, name="recipe_delete"),
    path("<int:pk>/trigger/test/", triggers.test_trigger, name="recipe_test_trigger"),
    path("<int:pk>/trigger/interval/", triggers.poll_interval, name="recipe_poll_interval"),
    path("<int:pk>/edit/", include(editor_urls)),
    path("<int:pk>/versions/", editor_versions.versions, name="editor_versions"),
    # Test cases of the AI steps and their evaluations (hub/web/evaluations.py).
    path("<int:pk>/tests/", evaluations.cases, name="eval_cases"),
    path("<int:pk>/tests/new/", evaluations.case_new, name="eval_case_new"),
    path("<int:pk>/tests/run/", evaluations.start, name="eval_start"),
    path("<int:pk>/tests/results/<int:run_id>/", evaluations.result, name="eval_result"),
    path("<int:pk>/tests/<int:case_id>/", evaluations.case_edit, name="eval_case_edit"),
    path("<int:pk>/tests/<int:case_id>/delete/", evaluations.case_delete, name="eval_case_delete"),
    path(
        "<int:pk>/versions/<int:number>/restore/",
        editor_versions.restore,
        name="editor_restore",
    ),
]

run_urls = [
    path("", runs.run_list, name="runs"),
    path("retention/", runs.retention, name="run_retention"),
    path("<int:pk>/", runs.run_detail, name="run_detail"),
    path("<int:pk>/cancel/", runs.run_cancel, name="run_cancel"),
    path("<int:pk>/replay/", runs.run_replay, name="run_replay"),
    path("<int:pk>/save-case/", evaluations.save_from_run, name="run_save_case"),
]

member_urls = [
    path("members/", members.members, name="members"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("members/invite/", members.invite, name="invite_member"),
    path("members/invites/<int:invite_id>/revoke/", members.revoke_invite, name="revoke_invite"),
    path("members/<int:membership_id>/role/", members.change_role, name="change_role"),
    path("members/<int:membership_id>/remove/", members.remove_member, name="remove_member"),
    path("workspace/switch/", members.switch_workspace, name="switch_workspace"),
    path("workspace/settings/", workspace_settings.workspace_settings, name="workspace_settings"),
    path("invites/<str:token>/", members.accept_invite, name="accept_invite"),
]

ai_urls = [
    path("usage/", ai_usage.ai_usage, name="ai_usage"),
    path("budget/", ai_usage.ai_budget, name="ai_budget"),
]

system_urls = [
    path("healthz", system.healthz, name="healthz"),
    path("system/", system.status, name="system_status"),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("connections/", include(connection_urls)),
    path("recipes/", include(recipe_urls)),
    path("runs/", include(run_urls)),
    path("ai/", include(ai_urls)),
    path("hooks/<str:public_id>/<str:secret>", webhooks.catch, name="webhook"),
    path("hooks/<str:public_id>", webhooks.catch, name="webhook_header_secret"),
    # Instant triggers: apps push events here (hub/web/app_events.py).
    path("apps/slack/events", app_events.slack_events_view, name="slack_events"),
    path("apps/<slug:app>/webhooks/<str:token>/", app_events.app_webhook, name="app_webhook"),
    path("", include(member_urls)),
    path("", include(system_urls)),
    path("django-admin/", admin.site.urls),
]

handler400 = "hub.web.errors.bad_request"
handler403 = "hub.web.errors.permission_denied"
handler404 = "hub.web.errors.page_not_found"
handler500 = "hub.web.errors.server_error"
