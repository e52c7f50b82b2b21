// Simple particle update and render shader.

struct Particle {
    position: vec3<f32>,
    velocity: vec3<f32>,
    life: f32,
    flags: u32,
}

struct SimParams {
    delta_time: f32,
    gravity: vec3<f32>,
    particle_count: u32,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: SimParams;
@group(0) @binding(1) var<storage, read_write> particles: array<Particle>;
@group(1) @binding(0) var color_tex: texture_2d<f32>;
@group(1) @binding(1) var color_sampler: sampler;

let MAX_SPEED: f32 = 25.0;
let FLAG_ALIVE: u32 = 1u;

fn clamp_speed(v: vec3<f32>) -> vec3<f32> {
    let speed = length(v);
    if (speed > MAX_SPEED) {
        return normalize(v) * MAX_SPEED;
    }
    return v;
}

@compute @workgroup_size(64)
fn simulate(@builtin(global_invocation_id) id: vec3<u32>) {
    let index = id.x;
    if (index >= params.particle_count) {
        return;
    }
    var p = particles[index];
    if ((p.flags & FLAG_ALIVE) == 0u) {
        return;
    }
    p.velocity = clamp_speed(p.velocity + params.gravity * params.delta_time);
    p.position = p.position + p.velocity * params.delta_time;
    p.life = p.life - params.delta_time;
    if (p.life <= 0.0) {
        p.flags = p.flags & ~FLAG_ALIVE;
    }
    particles[index] = p;
}

@vertex
fn vs_main(@builtin(vertex_index) vertex_index: u32) -> VertexOutput {
    var out: VertexOutput;
    let p = particles[vertex_index];
    out.clip_position = vec4<f32>(p.position, 1.0);
    var brightness = 0.0;
    for (var i: i32 = 0; i < 4; i = i + 1) {
        brightness = brightness + 0.25 * f32(i);
    }
    out.color = vec4<f32>(brightness, p.life / 10.0, 0.5, 1.0);
    return out;
}

@fragment
fn fs_main(in: VertexOutput) -> @location(0) vec4<f32> {
    let uv = in.clip_position.xy / vec2<f32>(800.0, 600.0);
    let tex = textureSample(color_tex, color_sampler, uv);
    return tex * in.color;
}
