using Fellows.Server;

return await FellowsProgram.MainAsync(args);
