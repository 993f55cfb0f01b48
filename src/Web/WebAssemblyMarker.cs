namespace Fellows.Web;

/// <summary>Members' web pages live here; until the web-pages issue they are a thin placeholder.</summary>
public static class WebPages
{
}
