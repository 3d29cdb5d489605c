export async function writeReport(dir: string) {}
