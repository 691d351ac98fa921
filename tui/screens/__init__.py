"""Screens of the chat, one per module."""
