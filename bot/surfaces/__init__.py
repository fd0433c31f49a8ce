"""Putting surfaces on screen: read through core, build with bot.views, call the Web API."""
