"""Document views: a TextDocument (markdown or plain text) at the time cursor."""
