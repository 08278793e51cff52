"""`drgpolicy render`: the policy as a document to sign, and a version against its predecessor
as a redline (`engine.commands.render`)."""
