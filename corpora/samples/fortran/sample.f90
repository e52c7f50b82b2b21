! Simple particle simulation module and driver program
module particles
  implicit none
  private
  public :: particle_t, init_particles, step, kinetic_energy

  integer, parameter :: dp = selected_real_kind(15, 307)
  real(dp), parameter :: gravity = -9.81_dp

  type :: particle_t
    real(dp) :: x = 0.0_dp, y = 0.0_dp
    real(dp) :: vx = 0.0_dp, vy = 0.0_dp
    real(dp) :: mass = 1.0_dp
    character(len=16) :: label = 'unnamed'
  end type particle_t

contains

  subroutine init_particles(ps, n)
    type(particle_t), allocatable, intent(out) :: ps(:)
    integer, intent(in) :: n
    integer :: i, ierr

    allocate(ps(n), stat=ierr)
    if (ierr /= 0) then
      print *, 'allocation failed with status', ierr
      stop 1
    end if

    do i = 1, n
      ps(i)%x = real(i, dp) * 0.5_dp
      ps(i)%vy = 10.0_dp + real(mod(i, 3), dp)
      write(ps(i)%label, '(A,I0)') 'p', i
    end do
  end subroutine init_particles

  subroutine step(ps, dt)
    type(particle_t), intent(inout) :: ps(:)
    real(dp), intent(in) :: dt
    integer :: i

    do i = 1, size(ps)
      ps(i)%vy = ps(i)%vy + gravity * dt
      ps(i)%x = ps(i)%x + ps(i)%vx * dt
      ps(i)%y = ps(i)%y + ps(i)%vy * dt
      if (ps(i)%y < 0.0_dp) then
        ps(i)%y = 0.0_dp
        ps(i)%vy = -0.8_dp * ps(i)%vy
      end if
    end do
  end subroutine step

  pure function kinetic_energy(p) result(e)
    type(particle_t), intent(in) :: p
    real(dp) :: e
    e = 0.5_dp * p%mass * (p%vx**2 + p%vy**2)
  end function kinetic_energy

end module particles

program simulate
  use particles
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type(particle_t), allocatable :: ps(:)
  integer :: t, k
  real(dp) :: total

  call init_particles(ps, 5)
  do t = 1, 100
    call step(ps, 0.01_dp)
    if (mod(t, 25) == 0) then
      total = 0.0_dp
      do k = 1, size(ps)
        total = total + kinetic_energy(ps(k))
      end do
      print '(A,I4,A,F10.4)', 'step ', t, ' energy ', total
    end if
  end do

  select case (size(ps))
  case (0)
    print *, 'no particles'
  case (1:9)
    print *, 'few particles'
  case default
    print *, 'many particles'
  end select

  deallocate(ps)
end program simulate
