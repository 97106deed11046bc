// Global spawn rate limit: at most one spawn per min_spawn_interval, whatever the task.
export function nextSpawnAllowedAt(lastSpawnAt: number | null, minSpawnInterval: number): number {
  return lastSpawnAt === null ? -Infinity : lastSpawnAt + minSpawnInterval;
}
