# Simple particle simulation with a custom type hierarchy.
module Particles

using LinearAlgebra
import Base: show

export Particle, simulate!, kinetic_energy

abstract type AbstractBody end

mutable struct Particle <: AbstractBody
    position::Vector{Float64}
    velocity::Vector{Float64}
    mass::Float64
end

struct Bounds
    lo::Float64
    hi::Float64
end

const GRAVITY = [0.0, -9.81]

show(io::IO, p::Particle) = print(io, "Particle(m=$(p.mass), x=$(p.position))")

kinetic_energy(p::Particle) = 0.5 * p.mass * dot(p.velocity, p.velocity)

"""
    simulate!(ps, dt; steps=100, bounds=Bounds(0.0, 10.0))

Advance every particle by `steps` time steps, bouncing off the walls.
"""
function simulate!(ps::Vector{Particle}, dt::Real; steps::Int=100, bounds::Bounds=Bounds(0.0, 10.0))
    dt > 0 || throw(ArgumentError("dt must be positive, got $dt"))
    for step in 1:steps
        for p in ps
            p.velocity .+= GRAVITY .* dt
            p.position .+= p.velocity .* dt
            for k in eachindex(p.position)
                if p.position[k] < bounds.lo
                    p.position[k] = bounds.lo
                    p.velocity[k] = -0.9 * p.velocity[k]
                elseif p.position[k] > bounds.hi
                    p.position[k] = bounds.hi
                    p.velocity[k] *= -0.9
                end
            end
        end
        if step % 25 == 0
            total = sum(kinetic_energy, ps)
            println("step $step: E = ", round(total; digits=3))
        end
    end
    return ps
end

end # module

using .Particles

ps = [Particle([rand() * 10, 5.0], [1.0, 0.0], m) for m in (1.0, 2.5, 0.3)]
settings = Dict(:dt => 0.01, :steps => 200)
try
    simulate!(ps, settings[:dt]; steps=settings[:steps])
catch err
    @warn "simulation failed" exception=err
finally
    energies = map(kinetic_energy, ps)
    @show maximum(energies)
end
squares = [i^2 for i in 1:5 if isodd(i)]
x = 3
while x > 0
    global x -= 1
end
