// Fills the worker command's placeholders. Each placeholder is replaced inside its own argv
// element; nothing goes through a shell, so a prompt or path can never inject arguments.
export interface CommandValues {
  promptFile: string;
  taskId: string;
  worktree: string;
  permissionMode: string;
}

export function buildWorkerArgv(template: readonly string[], v: CommandValues): string[] {
  return template.map((arg) =>
    arg
      .replaceAll('{prompt_file}', v.promptFile)
      .replaceAll('{task_id}', v.taskId)
      .replaceAll('{worktree}', v.worktree)
      .replaceAll('{permission_mode}', v.permissionMode),
  );
}
