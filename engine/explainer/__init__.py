"""The explainer (解释): why one case (or a hospital's value) got what it got, as a trace recorded
as data, its dependency path, the documents' passages it cites, and its text."""
