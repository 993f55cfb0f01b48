namespace Fellows.Server.Tests;
